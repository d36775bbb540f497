"""The committee analysis: what it says about its own inputs."""

from __future__ import annotations


def test_the_capture_and_the_stakeholder_list_disagreeing_is_said() -> None:
    """A stranger read 26 % vs 40 % (capture) in the findings and 45 % vs 26 % (stakeholders)
    here for 'decision maker engaged': the committee analysis now says where the two differ."""
    import pandas as pd

    from winloss.analyze.committee.analysis import dm_disagreement

    closed = pd.DataFrame(
        {
            "captured_dm_engaged": [True, True, False, False, None, True],
            "has_decision_maker": [True, False, True, False, True, False],
            "listed_stakeholders": [2, 3, 1, 2, 4, 0],  # the last has no list: not compared
        }
    )
    note = dm_disagreement(closed)
    assert note is not None
    assert "disagree on 2 of 4 closed deals that have both (1 captured as engaged" in note
    assert "1 the reverse" in note
    assert (
        dm_disagreement(closed.iloc[[0, 3, 4, 5]]) is None
    )  # rows that agree, or are not compared


def test_deals_without_stakeholder_rows_are_left_out_not_counted_as_nobody_engaged(
    tmp_path: object,
) -> None:
    """A stranger's store: 56 product-led deals had no contact rows and were counted among the
    deals without a decision maker (rest 32 % won instead of 14 %)."""
    import pandas as pd

    from winloss import Workspace

    rows, people = [], []
    for i in range(60):
        has_list, has_dm = i < 40, i < 20
        won = (i % 20) < (15 if has_dm else 3) if has_list else i % 2 == 0
        rows.append(
            {
                "deal_id": f"d{i}",
                "outcome": "won" if won else "lost",
                "created_at": "2025-01-06",
                "closed_at": "2025-03-20",
                "segment": "SMB",
            }
        )
        if has_list:
            people.append(
                {
                    "deal_id": f"d{i}",
                    "contact_id": f"c{i}",
                    "role": "decision_maker" if has_dm else "user",
                    "engaged_at": "2025-01-20",
                }
            )
    rows.append(  # an open deal with no decision maker: flagged, and no route can be suggested
        {"deal_id": "o1", "outcome": "open", "created_at": "2025-03-01", "closed_at": None,
         "segment": "SMB"}
    )  # fmt: skip
    people.append(
        {"deal_id": "o1", "contact_id": "co1", "role": "user", "engaged_at": "2025-03-02"}
    )
    ws = Workspace(str(tmp_path) + "/w.duckdb")
    ws.import_deals(pd.DataFrame(rows))
    ws.import_file("stakeholders", pd.DataFrame(people))
    result = ws.committee()
    dm = next(f for f in result.findings if f.key == "has_decision_maker")
    assert (dm.group.n, dm.group.wins) == (20, 15)
    assert (dm.rest.n, dm.rest.wins) == (20, 3)  # the 20 deals without rows are not in the rest
    assert any("20 of 60 closed deals have no stakeholder rows" in w for w in result.warnings)
    risk = result.risks.set_index("deal_id").loc["o1"]
    assert "no decision maker" in risk["flags"] and risk["suggested_route"] is None
    assert risk["suggestion_evidence"].startswith("no route to suggest")
    ws.close()


def _committee_store(path: str, engaged: list[bool]) -> object:
    """40 closed deals, one contact each; ``engaged[i]``: the contact has an engaged date."""
    import pandas as pd

    from winloss import Workspace

    deals = pd.DataFrame(
        {
            "deal_id": [f"d{i}" for i in range(40)],
            "outcome": ["won" if i % 2 else "lost" for i in range(40)],
            "created_at": "2025-01-06",
            "closed_at": "2025-03-20",
        }
    )
    people = pd.DataFrame(
        {
            "deal_id": [f"d{i}" for i in range(40)],
            "contact_id": [f"c{i}" for i in range(40)],
            "role": ["decision_maker" if i % 3 else "user" for i in range(40)],
            "engaged_at": ["2025-01-20" if e else None for e in engaged],
        }
    )
    ws = Workspace(path)
    ws.import_deals(deals)
    ws.import_file("stakeholders", people)
    return ws


def test_contacts_without_engagement_dates_are_refused_not_read_as_nobody_engaged(
    tmp_path: object,
) -> None:
    """A stranger's contacts export had no engaged_at and no activities named a contact: every
    deal read as 'nobody engaged', silently."""
    import pytest

    from winloss import Workspace
    from winloss.errors import InsufficientDataError

    ws = _committee_store(str(tmp_path) + "/none.duckdb", [False] * 40)
    assert isinstance(ws, Workspace)
    with pytest.raises(InsufficientDataError, match="none of the 40 stakeholders") as exc:
        ws.committee(min_support=10)
    assert "--column engaged_at=COLUMN" in str(exc.value)
    ws.close()
    ws = _committee_store(str(tmp_path) + "/few.duckdb", [i < 12 for i in range(40)])
    assert isinstance(ws, Workspace)
    result = ws.committee(min_support=10)
    assert any(
        w.startswith("28 of 40 stakeholders of the closed deals have neither")
        for w in result.warnings
    )
    ws.close()


def test_one_deals_map_needs_no_statistics(tmp_path: object) -> None:
    """`winloss committee DEAL_ID` refused a rep's map on a store with under 40 closed deals."""
    import pytest

    from winloss import Workspace
    from winloss.errors import InsufficientDataError

    ws = _committee_store(str(tmp_path) + "/w.duckdb", [True] * 40)
    assert isinstance(ws, Workspace)
    with pytest.raises(InsufficientDataError, match="40 closed deals"):
        ws.committee(min_support=30)  # the analysis itself still needs 2 × min_support
    result = ws.committee(deal_id="d4", min_support=30)
    assert result.committee_map is not None and result.committee_map.deal_id == "d4"
    assert list(result.committee_map.people["contact_id"]) == ["c4"]
    assert result.findings == ()
    assert any("too few to test what wins" in w for w in result.warnings)
    ws.close()
