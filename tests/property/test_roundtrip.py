"""Property tests: import → store → read keeps row counts, totals and values."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from winloss import Workspace

ids = st.from_regex(r"\A[A-K][A-K0-9-]{0,9}\Z")
amounts = st.one_of(
    st.none(), st.floats(min_value=0, max_value=1e9, allow_nan=False).map(lambda x: round(x, 2))
)
dates = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2030, 12, 31))
labels = st.sampled_from(["SMB", "Mid-Market", "Enterprise", "None", "N.A.", "ÄÖÜ ltd"])

deal_rows = st.lists(
    st.tuples(
        ids,
        st.sampled_from(["won", "lost", "open", "Closed Won", "Loss"]),
        dates,
        st.integers(0, 400),
        amounts,
        labels,
        st.integers(0, 30),
    ),
    min_size=1,
    max_size=60,
    unique_by=lambda r: r[0],
)


def _frame(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": [r[0] for r in rows],
            "outcome": [r[1] for r in rows],
            "created_at": [r[2].isoformat() for r in rows],  # type: ignore[attr-defined]
            "closed_at": [
                (r[2] + dt.timedelta(days=r[3])).isoformat()  # type: ignore[operator]
                if r[1] != "open"
                else ""
                for r in rows
            ],
            "amount": ["" if r[4] is None else f"{r[4]:,.2f}" for r in rows],
            "segment": [r[5] for r in rows],
            "seats": [str(r[6]) for r in rows],
        }
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deal_rows, st.sampled_from([",", ";", "\t"]))
def test_csv_round_trip_keeps_counts_totals_and_values(
    rows: list[tuple[object, ...]], delimiter: str
) -> None:
    frame = _frame(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deals.csv"
        frame.to_csv(path, index=False, sep=delimiter)
        ws = Workspace(":memory:")
        result = ws.import_deals(path)
        again = ws.import_deals(path)
        stored = ws.deals().set_index("deal_id")
        ws.close()
    assert result.inserted == len(rows) and again.updated == len(rows)
    assert len(stored) == len(rows)
    expected_total = sum(r[4] for r in rows if r[4] is not None)  # type: ignore[misc]
    assert abs(stored["amount"].sum() - expected_total) <= 1e-6 * max(1.0, expected_total)
    for r in rows:
        got = stored.loc[r[0]]
        assert got["segment"] == r[5]
        assert got["seats"] == r[6]
        assert got["created_at"].date() == r[2]
        norm = {"Closed Won": "won", "Loss": "lost"}.get(r[1], r[1])  # type: ignore[call-overload]
        assert got["outcome"] == norm
        if norm != "open":
            assert got["cycle_days"] == r[3]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(ids, st.sampled_from(["won", "lost"])), min_size=2, max_size=30))
def test_duplicate_policies_keep_one_row_per_id(rows: list[tuple[str, str]]) -> None:
    frame = pd.DataFrame(
        {
            "deal_id": [r[0] for r in rows],
            "outcome": [r[1] for r in rows],
            "created_at": "2026-01-01",
        }
    )
    ws = Workspace(":memory:")
    ws.import_deals(frame, on_duplicate="keep-last")
    stored = ws.deals().set_index("deal_id")["outcome"].to_dict()
    ws.close()
    assert stored == {r[0]: r[1] for r in rows}  # dict keeps the last value per key
