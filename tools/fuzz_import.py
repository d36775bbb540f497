"""Fuzz the importers for a set time (outside CI): ``python tools/fuzz_import.py --seconds 300``.

Hypothesis builds deal files from tricky cells (numbers at the limits, dates in odd formats and
years, formulas, quotes, delimiters, control characters, non-ASCII text) and damages them (cut at a
random byte, a stray quote or delimiter, a line repeated, another encoding, a BOM, random bytes,
Excel and Parquet files cut short). Each file is imported into a store that already holds deals,
and one of two things must happen:

- a :class:`~winloss.errors.WinlossError` whose message is one line, never "unexpected", and the
  store exactly as before (fingerprint of every table); or
- an import that stored every data record of the file (counted with Python's csv module from the
  generated rows) with its id and amount unchanged.

Anything else (another exception, a changed store after a refusal, a lost or altered row) is a
finding: printed, and written to ``--out`` (default ``fuzz-findings/``) as the input file plus a
note, to be kept as a regression case in ``tests/ingest/bad_inputs.py``.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tests.ingest.store_state import fingerprint_connection  # noqa: E402

from winloss import WinlossError, Workspace  # noqa: E402
from winloss.model.vocabulary import BOOL_SYNONYMS, OUTCOME_SYNONYMS, normalise_token  # noqa: E402

HEADERS = ["deal_id", "outcome", "created_at", "amount"]
EXTRA = ["segment", "notes", "stakeholders", "closed_at", "Custom Field", "custom field", "x-y"]
CELLS = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "-1e309",
    "1e308",
    "9" * 25,
    "9007199254740993",
    "(5)",
    "$1,200.50",
    "1.234,5",
    "NaN",
    "inf",
    "0x10",
    "1_000",
    "2026-01-05",
    "1500-01-01",
    "9999-12-31",
    "02/01/2025",
    "31/01/2025",
    "2026-02-30",
    "2026-01-01T10:00:00+14:00",
    '=HYPERLINK("x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-2+3",
    "\tTAB",
    "a\x00b",
    "Zoë",
    "名前",
    "🚀",
    "\u202eevil",
    '"',
    '""',
    ",",
    ";",
    "\n",
    "\r\n",
    "a,b",
    "None",
    "NULL",
    "won",
    "lost",
    "open",
    "Pending",
    "maybe",
    "Closed Won",
    "yes",
    "no",
    "x" * 5000,
]
OUTCOMES = ["won", "lost", "open", "Won", "Closed Lost", "pending", "In Progress"]


@dataclass
class Tally:
    inputs: int = 0
    imported: int = 0
    refused: int = 0
    findings: list[str] = field(default_factory=list)
    rows_lost: int = 0
    crashes: int = 0


@dataclass(frozen=True)
class Generated:
    name: str
    data: bytes
    ids: tuple[str, ...]  # ids of the generated data rows, when the file is not damaged
    amounts: tuple[str, ...]
    damaged: bool
    options: tuple[tuple[str, tuple[str, ...]], ...] = ()
    outcomes: tuple[str, ...] = ()


def _quote(cell: str) -> str:
    if any(ch in cell for ch in ',"\n\r') or cell != cell.strip():
        return '"' + cell.replace('"', '""') + '"'
    return cell


@st.composite
def deal_files(draw: st.DrawFn) -> Generated:
    free = st.text(min_size=0, max_size=12).filter(lambda t: t.strip() not in HEADERS)
    extra = draw(st.lists(st.one_of(st.sampled_from(EXTRA), free), max_size=4))
    header = HEADERS + extra
    n = draw(st.integers(min_value=0, max_value=12))
    rows: list[list[str]] = []
    for i in range(n):
        plain = st.integers(0, 10**6).map(str)
        amount = draw(st.one_of(plain, plain, plain, st.sampled_from(CELLS)))
        outcome = draw(
            st.one_of(st.sampled_from(OUTCOMES), st.sampled_from(OUTCOMES), st.sampled_from(CELLS))
        )
        created = draw(
            st.one_of(st.just("2026-01-05"), st.just("2026-01-05"), st.sampled_from(CELLS))
        )
        row = [f"id{i}", outcome, created, amount]
        row += [draw(st.sampled_from(CELLS)) for _ in extra]
        rows.append(row)
    text = "\n".join(",".join(_quote(c) for c in r) for r in [header, *rows]) + "\n"
    kind = draw(st.sampled_from(["csv", "csv", "csv", "xlsx", "parquet"]))
    if kind in ("xlsx", "parquet"):
        labels = [f"{h}.{i}" if header.index(h) != i else h for i, h in enumerate(header)]
        frame = pd.DataFrame(rows, columns=labels, dtype=str)
        buf = io.BytesIO()
        if kind == "xlsx":  # a worksheet cannot hold control characters
            control = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
            frame = frame.replace(control, "", regex=True)
            frame.columns = [
                c if i < len(HEADERS) else re.sub(control, "", c) + f"#{i}"
                for i, c in enumerate(labels)
            ]
            frame.to_excel(buf, index=False)
        else:
            frame.to_parquet(buf, index=False)
        data = buf.getvalue()
        damaged = draw(st.booleans())
        if damaged:
            data = data[: draw(st.integers(0, max(0, len(data) - 1)))]
        return Generated(f"f.{kind}", data, tuple(r[0] for r in rows),
                         tuple(r[3] for r in rows), damaged)  # fmt: skip
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    damage = draw(st.sampled_from(["none", "none", "cut", "quote", "delimiter", "repeat", "bytes"]))
    if damage == "cut" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif damage in ("quote", "delimiter", "bytes") and data:
        at = draw(st.integers(0, len(data)))
        insert = {"quote": b'"', "delimiter": b";"}.get(damage) or draw(
            st.binary(min_size=1, max_size=4)
        )
        data = data[:at] + insert + data[at:]
    elif damage == "repeat" and rows:
        lines = data.split(b"\n")
        k = draw(st.integers(1, len(lines) - 1))
        data = b"\n".join([*lines[: k + 1], lines[k], *lines[k + 1 :]])
    flags = draw(
        st.sampled_from(
            [
                (),
                (("won_values", ("Won",)),),
                (("lost_values", ("lost",)),),
                (("won_values", ("won",)), ("lost_values", ("lost",))),
            ]
        )
    )
    return Generated("f.csv", data, tuple(r[0] for r in rows), tuple(r[3] for r in rows),
                     damage != "none", flags, tuple(r[1] for r in rows))  # fmt: skip


def _record(tally: Tally, out: Path, gen: Generated, what: str) -> None:
    tally.findings.append(what)
    out.mkdir(parents=True, exist_ok=True)
    n = len(tally.findings)
    (out / f"finding-{n:03d}-{gen.name}").write_bytes(gen.data)
    (out / f"finding-{n:03d}.txt").write_text(what + "\n")
    print(f"FINDING {n}: {what.splitlines()[0][:300]}", flush=True)


def check_one(gen: Generated, tally: Tally, out: Path) -> None:
    """Import one generated file into a seeded store and check the two allowed endings."""
    tally.inputs += 1
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "seed.csv").write_text("deal_id,outcome,created_at,amount\nS1,won,2025-01-02,1\n")
        path = root / gen.name
        path.write_bytes(gen.data)
        ws = Workspace(root / "s.duckdb" if tally.inputs % 5 == 0 else ":memory:")
        try:
            ws.import_deals(root / "seed.csv")
            before = fingerprint_connection(ws.store.con)
            try:
                ws.import_deals(path, **dict(gen.options))  # type: ignore[arg-type]
            except WinlossError as exc:
                tally.refused += 1
                message = str(exc)
                if "\n" in message or "unexpected" in message.casefold():
                    _record(tally, out, gen, f"refusal not one clear line: {message!r}")
                if fingerprint_connection(ws.store.con) != before:
                    _record(tally, out, gen, f"store changed after a refusal: {message}")
                return
            except Exception:  # noqa: BLE001 - a crash is what the fuzzer looks for
                tally.crashes += 1
                _record(tally, out, gen, "crash:\n" + traceback.format_exc())
                return
            tally.imported += 1
            if not gen.damaged:
                _check_rows(ws, gen, tally, out)
        finally:
            ws.close()


def _word_side(cell: str, gen: Generated) -> str | None:
    """The outcome a cell must have whatever the rules: a named value, or a word for one side."""
    token = normalise_token(cell)
    for key, side in (("won_values", "won"), ("lost_values", "lost")):
        if any(normalise_token(v) == token for v in dict(gen.options).get(key, ())):
            return side
    if token in BOOL_SYNONYMS:
        return None  # yes/no: its meaning depends on the values named
    return OUTCOME_SYNONYMS.get(token)


def _check_rows(ws: Workspace, gen: Generated, tally: Tally, out: Path) -> None:
    outcomes = ws.store.query("SELECT deal_id, outcome FROM deals WHERE deal_id <> 'S1'")
    stored_outcome = dict(zip(outcomes["deal_id"], outcomes["outcome"], strict=True))
    for deal_id, cell in zip(gen.ids, gen.outcomes, strict=True):
        side = _word_side(cell, gen)
        if side is not None and stored_outcome.get(deal_id) not in (side, None):
            _record(
                tally,
                out,
                gen,
                f"{deal_id}: outcome {cell!r} stored as {stored_outcome[deal_id]!r}, not {side!r}",
            )
    stored = ws.store.query("SELECT deal_id, amount FROM deals WHERE deal_id <> 'S1'")
    expected = dict(zip(gen.ids, gen.amounts, strict=True))
    missing = sorted(set(expected) - set(stored["deal_id"]))
    if missing:
        tally.rows_lost += len(missing)
        _record(tally, out, gen, f"rows lost on import: {missing}")
    for deal_id, amount in zip(stored["deal_id"], stored["amount"], strict=True):
        text = expected.get(deal_id, "")
        if text.strip().isdigit() and float(text) != amount:
            _record(tally, out, gen, f"{deal_id}: amount {text!r} stored as {amount!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"))
    args = parser.parse_args(argv)
    tally = Tally()
    deadline = time.monotonic() + args.seconds

    @settings(max_examples=50, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(deal_files())
    def run(gen: Generated) -> None:
        if time.monotonic() < deadline:
            check_one(gen, tally, args.out)

    while time.monotonic() < deadline:
        run()
    print(f"inputs tried {tally.inputs}, imported {tally.imported}, refused {tally.refused}, "
          f"crashes {tally.crashes}, rows lost {tally.rows_lost}, "
          f"findings {len(tally.findings)}")  # fmt: skip
    return 1 if tally.findings else 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["Generated", "Tally", "check_one", "deal_files", "main"]
