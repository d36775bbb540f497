"""Regenerate the README sections derived from code (the data model).

Run ``python tools/update_readme.py`` after changing ``winloss.model.schema``; a test fails while the
README is stale.
"""

from __future__ import annotations

import re
from pathlib import Path

from winloss.model.schema import data_model_markdown

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- data-model:start -->", "<!-- data-model:end -->"


def main() -> None:
    text = README.read_text(encoding="utf-8")
    block = f"{START}\n{data_model_markdown()}\n{END}"
    new, n = re.subn(
        re.escape(START) + ".*?" + re.escape(END), lambda _m: block, text, flags=re.DOTALL
    )
    if n != 1:
        raise SystemExit(f"README.md needs exactly one {START} … {END} block")
    README.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
