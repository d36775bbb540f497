"""The Bowtie on real public data, checked against independent pandas/lifelines computations.

* IBM Telco customer churn (one row per customer): retention curve, monthly churn and lifetime
  value per contract type — the worked example of docs/bowtie.md.
* Maven CRM sales opportunities: the pre-sale funnel by engagement quarter with open deals
  censored, beside the naive "open = lost" conversion.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import MAVEN_CSV, TELCO_CSV, require
from winloss import Workspace

pytestmark = pytest.mark.realdata


def test_telco_retention_churn_and_ltv_per_contract() -> None:
    """Reference: lifelines' KaplanMeierFitter per contract (tolerance 1e-6) and pandas sums."""
    lifelines = pytest.importorskip("lifelines")
    path = require(TELCO_CSV)
    raw = pd.read_csv(path)
    ws = Workspace(":memory:")
    result = ws.bowtie_churn_table(path, annual_discount_rate=0.0)
    curves = result.retention.by_group
    ltv = result.ltv.set_index("group")
    for contract, part in [("all", raw)] + list(raw.groupby("Contract")):
        tenure = part["tenure"].to_numpy(float)
        churned = (part["Churn"] == "Yes").to_numpy()
        kmf = lifelines.KaplanMeierFitter().fit(tenure, churned)
        mine = curves[curves["group"] == contract]
        np.testing.assert_allclose(
            mine["retention"].to_numpy(),
            kmf.survival_function_at_times(mine["month"].to_numpy()).to_numpy(),
            atol=1e-6,
        )
        churn = churned.sum() / tenure.sum()
        assert ltv.loc[contract, "monthly_churn"] == pytest.approx(churn, rel=1e-12)
        arpu = part["MonthlyCharges"].mean()
        last = int(tenure.max())
        s = kmf.survival_function_at_times(np.arange(last + 1)).to_numpy()
        expected = arpu * (s.sum() + s[-1] * (1 - churn) / churn)
        assert ltv.loc[contract, "ltv"] == pytest.approx(expected, rel=1e-6)
        assert ltv.loc[contract, "ltv_observed"] == pytest.approx(arpu * s.sum(), rel=1e-6)
        assert ltv.loc[contract, "ltv_simple"] == pytest.approx(arpu / churn, rel=1e-9)
    # month-to-month customers churn most and are worth least
    assert (
        ltv.loc["Month-to-month", "ltv"] < ltv.loc["One year", "ltv"] < ltv.loc["Two year", "ltv"]
    )


def _aalen_johansen_by_hand(
    days: np.ndarray, won: np.ndarray, lost: np.ndarray, at: float | None = None
) -> tuple[float, float]:
    """(P(won by ``at``), P(still open after ``at``)), an independent loop over sorted deals
    (``at`` defaults to the last time)."""
    order = np.lexsort((~(won | lost), days))  # events before censorings at equal times
    days, won, lost = days[order], won[order], lost[order]
    n = len(days)
    surv, cif, i = 1.0, 0.0, 0
    while i < n and (at is None or days[i] <= at):
        j = i
        while j < n and days[j] == days[i]:
            j += 1
        at_risk = n - i
        w, lo = won[i:j].sum(), lost[i:j].sum()
        cif += surv * w / at_risk
        surv *= 1 - (w + lo) / at_risk
        i = j
    return cif, surv


def test_maven_presale_funnel_by_quarter_with_open_deals_censored() -> None:
    path = require(MAVEN_CSV)
    ws = Workspace(":memory:")
    ws.import_deals(path, preset="maven-crm")
    result = ws.bowtie(cohort="quarter")
    raw = pd.read_csv(path, parse_dates=["engage_date", "close_date"])
    dated = raw[raw["engage_date"].notna()].copy()
    as_of = max(raw["engage_date"].max(), raw["close_date"].max())
    assert result.as_of == as_of.date()
    dated["quarter"] = (
        dated["engage_date"].dt.year.astype(str) + "Q" + dated["engage_date"].dt.quarter.astype(str)
    )
    dated["days"] = (dated["close_date"].fillna(as_of) - dated["engage_date"]).dt.days
    cohorts = result.cohorts[result.cohorts["stage"] == "selection"].set_index("cohort")
    pooled_h = float(dated["days"].max())
    checked = 0
    for quarter, part in dated.groupby("quarter"):
        row = cohorts.loc[quarter]
        won = (part["deal_stage"] == "Won").to_numpy()
        lost = (part["deal_stage"] == "Lost").to_numpy()
        assert row["volume"] == len(part)
        assert row["censored"] == int((part["deal_stage"] == "Engaging").sum())
        assert row["naive_conversion"] == pytest.approx(won.mean())
        days = part["days"].to_numpy()
        if days.max() >= pooled_h:
            expected = _aalen_johansen_by_hand(days, won, lost)[0]
        else:  # followed less than the horizon: the rest comes from the pooled curve
            tau = float(days.max())
            f_tau, s_tau = _aalen_johansen_by_hand(days, won, lost, tau)
            all_won = (dated["deal_stage"] == "Won").to_numpy()
            all_lost = (dated["deal_stage"] == "Lost").to_numpy()
            all_days = dated["days"].to_numpy()
            pf_tau, ps_tau = _aalen_johansen_by_hand(all_days, all_won, all_lost, tau)
            pf_h = _aalen_johansen_by_hand(all_days, all_won, all_lost)[0]
            expected = f_tau + s_tau * (pf_h - pf_tau) / ps_tau
        assert row["conversion"] == pytest.approx(expected, abs=1e-9)
        checked += 1
    assert checked == 5
    # the censored estimate is above "open = lost" in the last quarter, where most are open
    last = cohorts.iloc[-1]
    assert last["conversion"] > last["naive_conversion"] + 0.03
    assert any("500 deal(s)" in w for w in result.warnings)  # Prospecting rows have no date


def test_maven_simulation_explains_why_revenue_is_zero() -> None:
    """Maven has deals only: the simulator projects no recurring revenue and says so, with the won
    deals and their value (pandas: the Won rows' close_value, ≈ 10 M)."""
    path = require(MAVEN_CSV)
    ws = Workspace(":memory:")
    ws.import_deals(path, preset="maven-crm")
    result = ws.simulate(draws=200)
    raw = pd.read_csv(path)
    won = raw[raw["deal_stage"] == "Won"]
    assert (result.quarters["revenue"] == 0).all()
    reason = result.zero_revenue_reason
    assert reason is not None and "no subscriptions" in reason
    assert f"{len(won):,} won deals" in reason
    assert f"{won['close_value'].sum():,.0f}" in reason
    assert not any(w.startswith("NRR unknown") for w in result.warnings)
