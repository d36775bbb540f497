"""After the sale: GRR/NRR on a fixture with known expansion, contraction and churn; LTV by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from winloss import Workspace
from winloss.analyze.bowtie.retention import lifetime_value, monthly_churn, revenue_retention
from winloss.errors import UsageError
from winloss.store import bowtie_queries


@pytest.fixture
def subs_ws(tmp_path: Path) -> Workspace:
    """A expands 100→150, B contracts 200→150, C churns (100), D starts inside the window."""
    ws = Workspace(tmp_path / "subs.duckdb")
    ws.import_file(
        "deals",
        pd.DataFrame(
            {
                "deal_id": ["a", "b", "c", "d"],
                "account_id": ["A", "B", "C", "D"],
                "created_at": ["2024-11-01"] * 3 + ["2025-05-01"],
                "closed_at": ["2024-12-31"] * 3 + ["2025-05-31"],
                "outcome": ["won"] * 4,
                "segment": ["SMB", "SMB", "Enterprise", "Enterprise"],
            }
        ),
    )
    ws.import_file(
        "subscriptions",
        pd.DataFrame(
            [
                ("A", "2025-01-01", 100.0, "new"),
                ("A", "2025-07-01", 150.0, "expansion"),
                ("B", "2025-01-01", 200.0, "new"),
                ("B", "2025-06-01", 150.0, "contraction"),
                ("C", "2025-01-01", 100.0, "new"),
                ("C", "2025-09-01", 0.0, "churn"),
                ("D", "2025-06-01", 500.0, "new"),
            ],
            columns=["account_id", "period_start", "mrr", "event"],
        ),
    )
    return ws


def test_grr_nrr_by_hand(subs_ws: Workspace) -> None:
    """Window 2025-01-01 → 2026-01-01: start 100+200+100 = 400, end 150+150+0 = 300 (D is new).

    NRR = 300/400 = 0.75; GRR = (100+150+0)/400 = 0.625; expansion 50/400, contraction 50/400,
    churn 100/400; and NRR = 1 + 0.125 − 0.125 − 0.25.
    """
    windows = bowtie_queries.mrr_windows(
        subs_ws.store, [("y", dt.date(2025, 1, 1), dt.date(2026, 1, 1))]
    )
    assert sorted(windows["account_id"]) == ["A", "B", "C"]
    row = revenue_retention(windows).iloc[0]
    assert row["mrr_start"] == 400 and row["mrr_end"] == 300
    assert row["nrr"] == pytest.approx(0.75)
    assert row["grr"] == pytest.approx(0.625)
    assert row["expansion"] == pytest.approx(0.125)
    assert row["contraction"] == pytest.approx(0.125)
    assert row["revenue_churn"] == pytest.approx(0.25)
    assert row["nrr"] == pytest.approx(
        1 + row["expansion"] - row["contraction"] - row["revenue_churn"]
    )


def test_bowtie_reports_the_trailing_window(subs_ws: Workspace) -> None:
    result = subs_ws.bowtie(as_of=dt.date(2026, 1, 1))
    ret = result.retention.to_dict()
    assert ret["nrr"] == pytest.approx(0.75) and ret["grr"] == pytest.approx(0.625)
    assert ret["customers"] == 4 and ret["churned"] == 1
    onboarding = result.stages.set_index("stage").loc["onboarding"]
    assert onboarding["volume"] == 4 and onboarding["lost"] == 1
    # no usage events, so no impact milestone: onboarding's conversion is not measured (it
    # counted only the customers who expanded: A, 1 of 4)
    assert np.isnan(onboarding["conversion"]) and np.isnan(onboarding["naive_conversion"])
    assert any("no customer has an impact milestone" in w for w in result.warnings)
    # entries in a period: only D started its subscription after March 2025
    later = subs_ws.bowtie(as_of=dt.date(2026, 1, 1), since=dt.date(2025, 3, 1))
    assert later.stages.set_index("stage").loc["onboarding", "volume"] == 1
    # growth loop: A expanded once over ~3.4 customer-years
    assert result.loops["growth"]["customers"] == 4
    assert result.current_mrr == pytest.approx(150 + 150 + 0 + 500)


def test_lifetime_value_by_hand() -> None:
    """Four customers: churned after 1 and 3 months, two active at 4 months; ARPU 10.

    KM: S(0)=1, S(1)=3/4, S(2)=3/4, S(3)=3/4·2/3=1/2, S(4)=1/2 (censored at 4). Observed months
    Σ S(0..4) = 1 + .75 + .75 + .5 + .5 = 3.5; churn = 2 events / 12 months = 1/6; the tail past
    month 4 decays at 5/6 a month: 0.5·(5/6)/(1/6) = 2.5; LTV = 10·(3.5 + 2.5) = 60.
    """
    months = np.array([1.0, 3.0, 4.0, 4.0])
    churned = np.array([1.0, 1.0, 0.0, 0.0])
    value = lifetime_value("all", months, churned, np.full(4, 10.0))
    assert monthly_churn(months, churned) == pytest.approx(1 / 6)
    assert value.ltv_observed == pytest.approx(35.0)
    assert value.ltv == pytest.approx(60.0)
    assert value.ltv_simple == pytest.approx(60.0)
    discounted = lifetime_value("all", months, churned, np.full(4, 10.0), monthly_discount=0.01)
    terms = np.array([1, 0.75, 0.75, 0.5, 0.5]) / 1.01 ** np.arange(5)
    q = (5 / 6) / 1.01
    assert discounted.ltv == pytest.approx(10 * (terms.sum() + terms[-1] * q / (1 - q)))
    assert discounted.ltv < value.ltv


def test_churn_table_columns_and_errors(tmp_path: Path) -> None:
    ws = Workspace(":memory:")
    frame = pd.DataFrame(
        {
            "customerID": ["a", "b", "c", "d"],
            "tenure": ["1", "3", "4", "4"],
            "MonthlyCharges": ["10", "10", "10", "10"],
            "Churn": ["Yes", "Yes", "No", "No"],
            "Contract": ["m", "m", "y", "y"],
        }
    )
    result = ws.bowtie_churn_table(frame)
    ltv = result.ltv.set_index("group")
    assert ltv.loc["all", "ltv"] == pytest.approx(60.0)
    assert ltv.loc["y", "monthly_churn"] == 0.0 and ltv.loc["m", "customers"] == 2
    # CAC = 1,000 / 4 customers = 250; payback = 250 / (10 × 0.5 margin) = 50 months
    cac = ws.bowtie_churn_table(frame, acquisition_cost=1000.0, gross_margin=0.5).cac
    assert cac is not None
    assert cac["cac"] == pytest.approx(250.0) and cac["payback_months"] == pytest.approx(50.0)
    with pytest.raises(UsageError, match="row 3, column 'Churn'"):
        ws.bowtie_churn_table(frame.assign(Churn=["Yes", "maybe", "No", "No"]))
    with pytest.raises(UsageError, match="no tenure column"):
        ws.bowtie_churn_table(frame.drop(columns=["tenure"]))


def test_a_one_row_per_subscription_export_is_refused_with_the_layout(tmp_path: Path) -> None:
    """Stripe's export mapped straight: churn rows carry the MRR at the subscription's start and
    the account never starts; the Bowtie read such a file as GRR 100 %. Refused, naming the
    rows (file lines) and columns, with nothing imported; the event layout imports."""
    from winloss.errors import ValidationError

    ws = Workspace(tmp_path / "s.duckdb")
    stripe = pd.DataFrame(
        {
            "Customer ID": ["cus_1", "cus_2", "cus_3"],
            "Status": ["new", "churn", "new"],
            "Start Date (UTC)": ["2025-01-05", "2025-02-01", "2025-03-01"],
            "MRR": [100.0, 250.0, 80.0],
        }
    )
    columns = {
        "account_id": "Customer ID",
        "event": "Status",
        "period_start": "Start Date (UTC)",
        "mrr": "MRR",
    }
    with pytest.raises(ValidationError) as err:
        ws.import_file("subscriptions", stripe, columns=columns)
    problems = [(p.row, p.column) for p in err.value.problems]
    assert problems == [(3, "MRR"), (3, "Status")]
    assert "a 'churn' row at the cancel date with mrr 0" in str(err.value)
    assert ws.table("subscriptions").empty
    events = pd.DataFrame(
        [("cus_2", "2025-02-01", 250.0, "new"), ("cus_2", "2025-09-01", 0.0, "churn")],
        columns=["account_id", "period_start", "mrr", "event"],
    )
    ws.import_file("subscriptions", events)
    # a later file may churn an account the store already knows, also when the store's
    # history of it starts mid-life (a renewal, no 'new' row)
    cols = ["account_id", "period_start", "mrr", "event"]
    ws.import_file(
        "subscriptions", pd.DataFrame([("cus_9", "2025-01-01", 90.0, "renewal")], columns=cols)
    )
    ws.import_file(
        "subscriptions",
        pd.DataFrame(
            [("cus_2", "2025-10-01", 0.0, "churn"), ("cus_9", "2025-11-01", 0.0, "churn")],
            columns=cols,
        ),
    )
    assert len(ws.table("subscriptions")) == 5
    ws.close()


def test_groups_with_few_churned_customers_are_warned_with_the_rates_interval() -> None:
    """Mid-Market's LTV (1 churned of 19, churn 0.39 % a month) ranked above Enterprise's from a
    21-year extrapolation: a group under FEW_CHURNED churned customers is named, with the exact
    Poisson interval of its churn rate."""
    from scipy.stats import poisson

    from winloss.analyze.bowtie.retention import (
        FEW_CHURNED,
        churn_interval,
        few_churned_warning,
    )

    few = lifetime_value(
        "Mid-Market", np.full(19, 12.0), np.r_[1.0, np.zeros(18)], np.full(19, 100.0)
    )
    many = lifetime_value(
        "SMB", np.full(40, 12.0), np.r_[np.ones(FEW_CHURNED), np.zeros(30)], np.full(40, 50.0)
    )
    assert few.churned == 1 and many.churned == FEW_CHURNED
    text = few_churned_warning(pd.DataFrame([few.__dict__, many.__dict__]))
    assert text is not None and "Mid-Market: 1 churned of 19 customers" in text
    assert "SMB" not in text and f"{few.ltv:,.0f} of which {few.ltv_observed:,.0f}" in text
    # the interval: P(X ≥ k | μ = low·E) = 2.5 % and P(X ≤ k | μ = high·E) = 2.5 %
    exposure = 19 * 12.0
    low, high = churn_interval(3, 3 / exposure)
    assert poisson.sf(2, low * exposure) == pytest.approx(0.025, rel=1e-6)
    assert poisson.cdf(3, high * exposure) == pytest.approx(0.025, rel=1e-6)
    assert few_churned_warning(pd.DataFrame([many.__dict__])) is None
    # no churn at all: the extrapolation is unbounded, said in words rather than "LTV inf"
    none = lifetime_value("SMB", np.full(30, 6.0), np.zeros(30), np.full(30, 10.0))
    text = few_churned_warning(pd.DataFrame([none.__dict__]))
    assert text is not None and "inf" not in text and "LTV unbounded (no churn" in text
