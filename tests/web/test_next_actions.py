"""The next-actions page (``/next-actions``): a rep's own open deals with ranked next actions,
filters, escaping, and the numbers against the analysis and a pandas count of the evidence."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask import Flask

from tests.web.conftest import TODAY, XSS, WebEnv, login
from tests.web.paths_store import MARKUP_ACTION, build_paths_store, frames
from winloss.web import create_app
from winloss.workspace import Workspace


@pytest.fixture(scope="module")
def paths_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[Flask, Path]:
    db = tmp_path_factory.mktemp("next") / "paths.duckdb"
    build_paths_store(db)
    return create_app(db, today=lambda: TODAY, testing=True), db


def _deals(page: str) -> list[str]:
    return re.findall(r'<tr data-deal="([^"]+)"', page)


def _row(page: str, deal_id: str) -> str:
    found = re.search(rf'<tr data-deal="{re.escape(deal_id)}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {deal_id}"
    return found.group(1)


def _actions(row: str) -> dict[str, tuple[str, int]]:
    """action → (lift text, evidence count) as printed."""
    out = {}
    for name, lift, support in re.findall(
        r'<b>(.*?)</b> <span class="lift">(.*?)</span>.*?<span class="support">(\d+)</span>', row
    ):
        out[html.unescape(name)] = (lift, int(support))
    return out


def test_rep_sees_only_their_own_open_deals(paths_app: tuple[Flask, Path]) -> None:
    app, _ = paths_app
    page = login(app, "ann").get("/next-actions").text
    assert _deals(page) == ["O-A1", "O-A2"]
    # a rep cannot widen the page to another rep's deals
    assert _deals(login(app, "ann").get("/next-actions?owner=Bob+Roe").text) == ["O-A1", "O-A2"]
    assert _deals(login(app, "bob").get("/next-actions").text) == ["O-B1", "O-B2"]


def test_manager_filters_by_rep_segment_and_region(paths_app: tuple[Flask, Path]) -> None:
    app, _ = paths_app
    boss = login(app, "boss")
    assert _deals(boss.get("/next-actions").text) == ["O-A1", "O-A2", "O-B1", "O-B2"]
    assert _deals(boss.get("/next-actions?owner=Bob+Roe").text) == ["O-B1", "O-B2"]
    assert _deals(boss.get("/next-actions?segment=Enterprise").text) == ["O-A2", "O-B2"]
    assert _deals(boss.get("/next-actions?region=EMEA").text) == ["O-A1", "O-B1"]
    page = boss.get("/next-actions?segment=SMB&region=AMER").text
    assert _deals(page) == [] and "No open deals" in page
    # the filters offer the values of the open deals
    assert (
        '<option value="Enterprise" selected>' in boss.get("/next-actions?segment=Enterprise").text
    )


def test_numbers_are_the_analysis_and_the_evidence_is_the_pandas_count(
    paths_app: tuple[Flask, Path],
) -> None:
    app, db = paths_app
    page = login(app, "boss").get("/next-actions").text
    with Workspace(db, read_only=True) as ws:
        result = ws.next_action(
            ("O-A1", "O-A2", "O-B1", "O-B2"), by="segment", top=3, bootstrap=100
        )
    cand = result.candidates
    deals, acts = frames()
    acts = acts.sort_values(["deal_id", "occurred_at"])
    acts["next"] = acts.groupby("deal_id")["type"].shift(-1)
    pairs = acts.merge(deals[["deal_id", "segment"]], on="deal_id").dropna(subset=["next"])
    for deal_id in ("O-A1", "O-B2"):
        shown = _actions(_row(page, deal_id))
        mine = cand[cand["deal_id"] == deal_id]
        assert list(shown) == mine.sort_values("rank")["action"].tolist()
        segment = deals.set_index("deal_id").loc[deal_id, "segment"]
        for r in mine.itertuples():
            lift, support = shown[r.action]
            assert lift == f"{round(100 * r.lift):+d}"
            # evidence: the segment's past moves from "call" into the action, counted by pandas
            n = int(
                (
                    (pairs["segment"] == segment)
                    & (pairs["type"] == "call")
                    & (pairs["next"] == r.action)
                ).sum()
            )
            assert support == r.support == n
    # demo wins after a call, proposal loses: demo first, with a positive lift
    o_a1 = _actions(_row(page, "O-A1"))
    assert list(o_a1)[0] == "demo" and o_a1["demo"][0].startswith("+")
    assert o_a1["proposal"][0].startswith("-")


def test_crm_strings_are_escaped(paths_app: tuple[Flask, Path]) -> None:
    app, _ = paths_app
    page = login(app, "boss").get("/next-actions").text
    assert XSS not in page and html.escape(XSS, quote=False) in page.replace("&#39;", "'")
    assert MARKUP_ACTION not in page
    assert html.escape(MARKUP_ACTION) in page


def test_store_without_activities_says_why(web: WebEnv) -> None:
    resp = login(web.app, "ann").get("/next-actions")
    assert resp.status_code == 200
    assert _deals(resp.text) == []
    assert "no deal has activities; import them" in resp.text


def test_long_lists_are_capped_with_a_note(
    paths_app: tuple[Flask, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from winloss.web import routes_next

    app, _ = paths_app
    monkeypatch.setattr(routes_next, "MAX_DEALS", 3)
    page = login(app, "boss").get("/next-actions").text
    assert len(_deals(page)) == 3
    assert "4 open deals match; the 3 created most recently are shown" in page
