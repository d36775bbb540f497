"""Decide how a text file is encoded, looking at the whole file rather than its first block.

A CRM export is usually UTF-8, sometimes UTF-8 with a BOM, UTF-16 or Windows-1252; a file pasted
together from two sources can mix UTF-8 and Windows-1252 bytes. :func:`detect_encoding` reads the
file in blocks and returns one of:

- ``utf-8`` / ``utf-8-sig`` / ``utf-16``: the whole file decodes cleanly;
- ``cp1252`` / ``latin-1``: no valid UTF-8 multi-byte sequence anywhere, so single-byte it is;
- ``mixed``: valid UTF-8 and stray single bytes side by side. :func:`decode_mixed` then decodes
  every valid UTF-8 sequence as UTF-8 and every other byte as Windows-1252, so "Zoë" reads as
  "Zoë" whichever way each line was written, never as "ZoÃ«".
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

BLOCK = 1 << 22
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _decodes_as_utf8(path: Path, skip: int) -> tuple[bool, int]:
    """Whether the file (after ``skip`` bytes) is valid UTF-8; else the first bad byte offset."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = skip
    with path.open("rb") as fh:
        fh.seek(skip)
        while True:
            block = fh.read(BLOCK)
            final = not block
            try:
                decoder.decode(block, final=final)
            except UnicodeDecodeError as exc:
                return False, offset + max(0, exc.start)
            if final:
                return True, -1
            offset += len(block)


def detect_encoding(path: Path) -> str:
    """The encoding of a whole text file: utf-8, utf-8-sig, utf-16(-le/-be), cp1252, latin-1 or
    mixed."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig" if _decodes_as_utf8(path, 3)[0] else "mixed"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    with path.open("rb") as fh:
        sample = fh.read(4096)
    if sample.count(0) > len(sample) // 4:  # UTF-16 without a BOM: every other byte is zero
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    ok, _ = _decodes_as_utf8(path, 0)
    if ok:
        return "utf-8"
    data = path.read_bytes()
    if _UTF8_MULTIBYTE.search(data):
        return "mixed"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def _utf8_or_cp1252(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):  # pragma: no cover - only registered for decoding
        raise exc
    bad = bytes(exc.object[exc.start : exc.end])
    try:
        return bad.decode("cp1252"), exc.end
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return bad.decode("latin-1"), exc.end


codecs.register_error("winloss-cp1252-fallback", _utf8_or_cp1252)


def decode_mixed(data: bytes) -> tuple[str, list[int]]:
    """Decode bytes that mix UTF-8 and Windows-1252: (text, 1-based lines with cp1252 bytes)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    lines: list[int] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            lines.append(number)
    return data.decode("utf-8", errors="winloss-cp1252-fallback"), lines


def decode_text(data: bytes, encoding: str) -> str:
    """Decode file bytes in a detected encoding (``mixed`` as in :func:`decode_mixed`)."""
    if encoding == "mixed":
        return decode_mixed(data)[0]
    return data.decode(encoding, errors="strict")
