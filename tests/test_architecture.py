"""The layers point one way, and SQL lives only in store/.

cli/web/demo → workspace (the facade) → report/plan → analyze → store/ingest → model, with
errors.py, serialize.py and the package root (``__version__``) at the bottom. Every module under
src/winloss is parsed with ``ast``: imports at module level, inside functions and under
``TYPE_CHECKING`` all count. Any string constant outside store/ that reads like SQL fails the
suite. The checker itself is tested on planted modules, so a broken checker cannot pass silently.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "winloss"

#: Layer of each top-level part of the package (higher may import lower or equal, never higher).
LAYERS: dict[str, int] = {
    "": 0,
    "errors": 0,
    "serialize": 0,  # base utilities and the package root (__version__)
    "csv_safety": 0,  # spreadsheet-formula escaping for CSV output (pandas only)
    "model": 1,
    "store": 2,
    "ingest": 2,
    "analyze": 3,
    "plan": 4,
    "report": 4,
    "workspace": 5,
    "cli": 6,
    "web": 6,
    "demo": 6,
    "__main__": 6,
}
LAYER_NAMES = {
    0: "base",
    1: "model",
    2: "store/ingest",
    3: "analyze",
    4: "plan/report",
    5: "workspace",
    6: "cli/web/demo",
}
#: SQL: a statement keyword, then later a keyword that only SQL puts after it (upper case only,
#: so prose like "select the deals from" does not count).
SQL = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER)\b.*\b(FROM|INTO|TABLE|SET|VIEW)\b",
    re.DOTALL,
)
#: The names the package root re-exports lazily, and the module each comes from.
ROOT_EXPORTS = {
    "Workspace": "winloss.workspace",
    "DealField": "winloss.model.deals",
    "DealFilter": "winloss.model.deals",
}


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


def part_of(module: str) -> str:
    """``winloss.analyze.base`` → ``analyze``; ``winloss`` → ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_of(module: str) -> int | None:
    return LAYERS.get(part_of(module))


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in ``tree``, wherever it is."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".") if is_package else module.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            if base == "winloss":  # the package root: resolve re-exported names
                out += [
                    (node.lineno, ROOT_EXPORTS.get(alias.name, "winloss")) for alias in node.names
                ]
            else:
                out.append((node.lineno, base))
    return [(line, m) for line, m in out if m == "winloss" or m.startswith("winloss.")]


def docstring_nodes(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def sql_strings(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of string constants and f-strings that read like SQL (docstrings aside)."""
    skip = docstring_nodes(tree)
    inside_fstring: set[int] = set()
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
                for v in node.values
            )
            inside_fstring.update(id(v) for v in node.values)
            if SQL.search(text):
                out.append((node.lineno, text))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and id(node) not in inside_fstring
            and SQL.search(node.value)
        ):
            out.append((node.lineno, node.value))
    return out


def check_module(source: str, module: str, *, is_package: bool = False) -> list[Violation]:
    """Every upward import and every SQL string (outside store/) of one module's source."""
    tree = ast.parse(source)
    out: list[Violation] = []
    mine = layer_of(module)
    if module != "winloss":  # the package root only re-exports the public API lazily
        for line, target in imported_modules(tree, module, is_package):
            theirs = layer_of(target)
            if mine is None or theirs is None:
                out.append(Violation(module, line, f"{target}: module outside the known layers"))
            elif theirs > mine:
                out.append(
                    Violation(
                        module,
                        line,
                        f"imports {target} ({LAYER_NAMES[theirs]}) "
                        f"from {LAYER_NAMES[mine]}: points up",
                    )
                )
    if part_of(module) != "store":
        for line, text in sql_strings(tree):
            out.append(
                Violation(module, line, "SQL outside store/: " + " ".join(text.split())[:70])
            )
    return out


def check_tree(root: Path = SRC) -> list[Violation]:
    out: list[Violation] = []
    for path in sorted(root.rglob("*.py")):
        out += check_module(
            path.read_text(encoding="utf-8"),
            module_name(path, root),
            is_package=path.name == "__init__.py",
        )
    return out


def test_layers_point_one_way_and_sql_lives_in_store() -> None:
    violations = check_tree()
    assert not violations, "\n".join(str(v) for v in violations)


def test_every_module_belongs_to_a_layer() -> None:
    unknown = sorted({part_of(module_name(p, SRC)) for p in SRC.rglob("*.py")} - set(LAYERS))
    assert not unknown


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("winloss.analyze.bad", "from winloss.workspace import Workspace\n"),
        ("winloss.analyze.bad", "import winloss.report.document\n"),
        (
            "winloss.analyze.bad",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from winloss.plan.action_plan import ActionPlan\n",
        ),
        ("winloss.analyze.bad", "def f():\n    from winloss.demo.run import run_demo\n"),
        ("winloss.analyze.bad", "from winloss import Workspace\n"),
        ("winloss.model.bad", "from winloss.store.duckdb_store import DuckDBStore\n"),
        ("winloss.store.bad", "from winloss.analyze.base import AnalysisResult\n"),
        ("winloss.plan.bad", "from winloss.workspace import Workspace\n"),
        ("winloss.report.sections.bad", "from ...workspace import Workspace\n"),
        ("winloss.workspace", "from winloss.cli.main import main\n"),
    ],
)
def test_checker_catches_an_upward_import(module: str, source: str) -> None:
    found = check_module(source, module)
    assert len(found) == 1 and "points up" in found[0].what, found


@pytest.mark.parametrize(
    "source",
    [
        'Q = "SELECT count(*) FROM deals"\n',
        'def f(con):\n    return con.execute("SELECT a, b "\n                       "FROM t WHERE x = ?")\n',
        'def f(con, t):\n    con.execute(f"DELETE FROM {t} WHERE period = ?")\n',
        'X = """\nINSERT INTO scores\nVALUES (1)\n"""\n',
        'def f(con):\n    con.execute("CREATE TABLE IF NOT EXISTS x (a INT)")\n',
    ],
)
def test_checker_catches_sql_outside_store(source: str) -> None:
    found = check_module(source, "winloss.analyze.bad")
    assert len(found) == 1 and "SQL outside store/" in found[0].what, found
    assert not check_module(source, "winloss.store.ok")  # the same text is fine in store/


def test_checker_lets_the_allowed_through() -> None:
    source = (
        '"""Docs may say: SELECT the deals FROM the store."""\n'
        "from winloss.model.deals import DealFilter\n"
        "from winloss.store.duckdb_store import DuckDBStore\n"
        "from winloss.errors import UsageError\n"
        "from winloss import __version__\n"
        'TEXT = "select the deals from last quarter"\n'
    )
    assert check_module(source, "winloss.analyze.ok") == []
    assert (
        check_module(
            "from winloss.analyze.base import AnalysisResult\n"
            "from winloss.report.charts import line_chart\n",
            "winloss.plan.ok",
        )
        == []
    )
    assert check_module("from . import charts\n", "winloss.report.sections", is_package=True) == []
