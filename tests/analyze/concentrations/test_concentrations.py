"""Win/loss concentrations on deals with planted patterns, on shuffled outcomes and on real data."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from tests.analyze.planted import (
    NOISE_FIELDS,
    PLANTED_PATTERNS,
    planted_deals,
    shuffled_outcomes,
)
from tests.conftest import IBM_CSV, require
from winloss import DealFilter, InsufficientDataError, UsageError, Workspace
from winloss.analyze.concentrations.analysis import ConcentrationAnalysis
from winloss.analyze.concentrations.conditions import OPS
from winloss.analyze.concentrations.result import ConcentrationResult, Finding

FINDING_KEYS = {
    "id",
    "conditions",
    "direction",
    "n",
    "wins",
    "win_rate",
    "ci_low",
    "ci_high",
    "lift",
    "p_value",
    "q_value",
    "adjusted_effect",
    "post_outcome",
    "quarters_held",
    "quarters_seen",
    "statement",
}
TOP_KEYS = {"period", "deals", "wins", "baseline_win_rate", "hypotheses_tested", "findings"}


def _with_outcome_fields(deals: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Fields that exist for one outcome only, or restate it: never findings."""
    rng = np.random.default_rng(seed)
    lost = deals["outcome"] == "lost"
    out = deals.copy()
    out["loss_reason"] = np.where(lost, rng.choice(["price", "timing", "features"], len(out)), None)
    out["stage"] = np.where(lost, "Closed Lost", "Closed Won")
    return out


@pytest.fixture(scope="module")
def planted_ws() -> Iterator[Workspace]:
    ws = Workspace(":memory:")
    ws.import_deals(_with_outcome_fields(planted_deals(8000, seed=3), seed=3))
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def planted_result(planted_ws: Workspace) -> ConcentrationResult:
    return ConcentrationAnalysis(record=False).run(planted_ws.store)


def _fields(f: Finding) -> tuple[str, ...]:
    return tuple(sorted(c.field for c in f.conditions))


def test_every_planted_pattern_is_found_with_its_direction(
    planted_result: ConcentrationResult,
) -> None:
    for pattern in PLANTED_PATTERNS:
        matches = [
            f
            for f in planted_result.findings
            if _fields(f) == tuple(sorted(pattern.fields)) and f.direction == pattern.direction
        ]
        assert matches, f"planted {pattern} not found"
        conditions = {c.field: c for c in matches[0].conditions}
        for field, value in zip(pattern.fields, pattern.value, strict=True):
            found = conditions[field]
            if pattern.op == "<=":
                assert found.op == "<="
                assert abs(found.value - value) <= 0.10 * value, (field, found.value, value)
            else:
                assert (found.op, found.value) == ("==", value)


def test_no_noise_column_in_any_finding(planted_result: ConcentrationResult) -> None:
    assert planted_result.findings
    for f in planted_result.findings:
        assert f.q_value < 0.05
        assert not set(_fields(f)) & set(NOISE_FIELDS), f.statement


def test_one_outcome_fields_and_outcome_restatements_are_never_conditions(
    planted_result: ConcentrationResult,
) -> None:
    used = {c.field for f in planted_result.findings for c in f.conditions}
    assert "loss_reason" not in used and "loss_reason" not in planted_result.attributes
    assert "stage" not in used
    assert "restates" in planted_result.skipped_attributes["stage"]


def test_findings_are_not_near_copies(planted_result: ConcentrationResult) -> None:
    keys = [
        (f.direction, _fields(f), tuple(c.op for c in f.conditions))
        for f in planted_result.findings
    ]
    assert len(keys) == len(set(keys))
    assert len(planted_result.findings) == len(PLANTED_PATTERNS)


def test_threshold_intervals_bracket_the_discovered_cuts(
    planted_result: ConcentrationResult,
) -> None:
    thresholds = [
        f for f in planted_result.findings if len(f.conditions) == 1 and f.conditions[0].op == "<="
    ]
    assert len(thresholds) == 3
    for f in thresholds:
        interval = f.threshold_interval
        assert interval is not None and interval["replicates"] == 200
        assert interval["low"] <= f.conditions[0].value <= interval["high"]


def _direct_mask(frame: pd.DataFrame, conditions: list[dict[str, Any]]) -> np.ndarray:
    """Conditions evaluated with plain pandas, independently of the analysis code."""
    mask = np.ones(len(frame), dtype=bool)
    for c in conditions:
        column = frame[c["field"]]
        if c["op"] == "==":
            mask &= (column.astype("string") == str(c["value"])).fillna(False).to_numpy(bool)
        elif c["op"] == "<=":
            mask &= (column.astype(float) <= c["value"]).fillna(False).to_numpy(bool)
        elif c["op"] == ">":
            mask &= (column.astype(float) > c["value"]).fillna(False).to_numpy(bool)
        elif c["op"] == "between":
            low, high = c["value"]
            mask &= column.astype(float).between(low, high).fillna(False).to_numpy(bool)
        else:
            mask &= column.isna().to_numpy()
    return mask


def test_statistics_of_every_finding_match_a_direct_count(
    planted_ws: Workspace, planted_result: ConcentrationResult
) -> None:
    """References: pandas counts, statsmodels' Wilson interval and scipy's Fisher exact test
    (tolerance 1e-9)."""
    deals = planted_ws.closed_deals()
    won = (deals["outcome"] == "won").to_numpy()
    total, wins = len(deals), int(won.sum())
    assert (planted_result.deals, planted_result.wins) == (total, wins)
    assert planted_result.baseline_win_rate == pytest.approx(wins / total)
    amount = deals["amount"].to_numpy(dtype=float)
    for f in planted_result.findings:
        data = f.to_dict()
        mask = _direct_mask(deals, data["conditions"])
        n, w = int(mask.sum()), int((mask & won).sum())
        assert (f.n, f.wins) == (n, w)
        assert f.win_rate == pytest.approx(w / n)
        assert f.rest_win_rate == pytest.approx((wins - w) / (total - n))
        assert f.lift == pytest.approx((w / n) / (wins / total))
        low, high = proportion_confint(w, n, method="wilson")
        assert (f.ci_low, f.ci_high) == (
            pytest.approx(low, abs=1e-9),
            pytest.approx(high, abs=1e-9),
        )
        table = [[w, n - w], [wins - w, total - n - (wins - w)]]
        assert f.p_value == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-9, abs=1e-300)
        assert f.won_revenue_share == pytest.approx(amount[mask & won].sum() / amount[won].sum())
        assert (f.direction == "win") == (f.win_rate > f.rest_win_rate)
        assert f.adjusted_effect is not None and f.holds_when_adjusted
        assert (f.adjusted_effect > 0) == (f.direction == "win")


def test_label_shuffled_outcomes_rarely_yield_a_finding() -> None:
    """At most 5 % of 20 label shuffles may show any finding at q < 0.05."""
    ws = Workspace(":memory:")
    ws.import_deals(planted_deals(1500, seed=11))
    analysis = ConcentrationAnalysis(bootstrap=0, record=False)
    table = analysis.load(ws.store)
    assert analysis.run_table(table).findings  # the unshuffled data do have findings
    with_findings = sum(
        bool(analysis.run_table(table.with_outcomes(shuffled_outcomes(table.won, seed))).findings)
        for seed in range(20)
    )
    assert with_findings <= 1
    ws.close()


def test_json_has_the_documented_shape(planted_result: ConcentrationResult) -> None:
    data = json.loads(planted_result.to_json())
    assert set(data) >= TOP_KEYS
    assert data["period"] == "all"
    assert data["hypotheses_tested"] >= data["families_tested"] > 0
    for finding in data["findings"]:
        assert set(finding) >= FINDING_KEYS
        assert finding["direction"] in ("win", "loss")
        assert isinstance(finding["post_outcome"], bool)
        for condition in finding["conditions"]:
            assert set(condition) == {"field", "op", "value"} and condition["op"] in OPS
        assert finding["ci_low"] <= finding["win_rate"] <= finding["ci_high"]
        assert 0 <= finding["p_value"] <= 1 and 0 <= finding["q_value"] <= 0.05
        assert finding["quarters_seen"] == 8 and finding["quarters_held"] == 8
    summary = planted_result.summary
    listed = data["findings"] + data["related_findings"]
    assert list(summary["id"]) == [f["id"] for f in listed]
    assert list(summary["tier"]) == [f["tier"] for f in listed]
    assert list(summary["n"]) == [f["n"] for f in listed]
    assert list(summary["explained_by"]) == [" ".join(f["explained_by"]) for f in listed]
    assert not summary["statement"].isna().any()


def test_statements_read_as_one_plain_sentence(planted_result: ConcentrationResult) -> None:
    by_field = {_fields(f): f for f in planted_result.findings}
    champion = by_field[("champion_tenure_days",)].statement
    assert champion.startswith("Deals whose champion had been in the job at most ")
    assert "95 % CI" in champion and "held in 8 of 8 quarters" in champion
    assert champion.endswith(".") and champion.count(".") == 1
    assert by_field[("stakeholders",)].statement.startswith(
        "Deals with at most 1 stakeholder won only"
    )


def test_a_quarter_is_compared_with_earlier_quarters_and_recorded(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "w.duckdb")
    ws.import_deals(planted_deals(8000, seed=3))
    first = ws.analyze(DealFilter(quarter="2025Q3"))
    assert first.period == "2025Q3" and first.findings
    for f in first.findings:
        assert f.quarters_seen == 6  # 2024Q1 … 2025Q2
        assert f.quarters_held is not None and f.quarters_held >= 5
        assert "earlier quarters" in f.statement
        assert [q.quarter for q in f.by_quarter][-1] == "2025Q2"
    assert any("fresh analysis of 2025Q2" in n for n in first.notes)
    second = ws.analyze(DealFilter(quarter="2025q4"))
    assert second.register is not None
    recorded_before = {
        r[0]
        for r in ws.store.con.execute(
            "SELECT finding_key FROM findings_register WHERE period = '2025Q3' AND status <> 'gone'"
        ).fetchall()
    }
    for entry in second.register:
        assert entry.status in ("new", "stronger", "weaker", "steady", "gone")
        assert (entry.status == "new") == (entry.key not in recorded_before)
        assert (entry.status == "gone") == (entry.key not in {f.key for f in second.findings})
    again = ws.analyze(DealFilter(quarter="2025Q4"))
    rows = ws.store.query("SELECT period, count(*) AS n FROM findings_register GROUP BY 1")
    assert dict(zip(rows["period"], rows["n"], strict=True))["2025Q4"] == len(again.register)
    runs = ws.store.con.execute(
        "SELECT count(*) FROM analysis_runs WHERE kind = 'concentrations'"
    ).fetchone()
    assert runs is not None and runs[0] == 3
    ws.close()


def test_a_file_without_ids_or_dates_is_analysed(tmp_path: Path) -> None:
    deals = planted_deals(2500, seed=5).drop(columns=["deal_id", "created_at", "closed_at"])
    deals = deals.rename(columns={"outcome": "Result"})
    deals["Result"] = deals["Result"].map({"won": "Yes", "lost": "No"})
    path = tmp_path / "spreadsheet.csv"
    deals.to_csv(path, index=False)
    ws = Workspace.from_file(path, columns={"outcome": "Result"}, won_values=("Yes",))
    result = ws.analyze()
    ws.close()
    assert result.deals == 2500 and result.findings
    assert any("no id column" in n for n in result.notes)
    assert any("quarter-over-quarter" in n for n in result.notes)
    assert all(f.quarters_held is None and f.quarters_seen is None for f in result.findings)
    assert result.register is None
    # without created_at the derived day counts are absent; the other patterns remain
    found = {(_fields(f), f.direction) for f in result.findings}
    assert (("pain_category",), "loss") in found and (("stakeholders",), "loss") in found


def test_too_few_deals_or_a_single_outcome_is_insufficient_data() -> None:
    ws = Workspace(":memory:")
    ws.import_deals(planted_deals(15, seed=1))
    with pytest.raises(InsufficientDataError, match="at least 20"):
        ws.analyze()
    ws.close()
    deals = planted_deals(200, seed=1)
    deals["outcome"] = "won"
    ws = Workspace(":memory:")
    ws.import_deals(deals)
    with pytest.raises(InsufficientDataError, match="was won"):
        ws.analyze()
    ws.close()


def test_bad_settings_and_unknown_fields_are_usage_errors(planted_ws: Workspace) -> None:
    with pytest.raises(UsageError, match="max_depth must be 1"):
        ConcentrationAnalysis(max_depth=3)
    with pytest.raises(UsageError, match="alpha must be between 0 and 1"):
        ConcentrationAnalysis(alpha=1.5)
    with pytest.raises(UsageError, match="min_support must be at least 1"):
        ConcentrationAnalysis(min_support=0)
    with pytest.raises(UsageError, match="no_such_field"):
        ConcentrationAnalysis(fields=("no_such_field",)).run(planted_ws.store)


def test_depth_one_reports_no_combination(
    planted_ws: Workspace, planted_result: ConcentrationResult
) -> None:
    result = ConcentrationAnalysis(max_depth=1, record=False).run(planted_ws.store)
    assert result.findings and all(len(f.conditions) == 1 for f in result.findings)
    assert result.families_tested == len(result.attributes)  # one family per attribute
    assert result.hypotheses_tested < planted_result.hypotheses_tested


@pytest.mark.realdata
def test_ibm_findings_mark_post_outcome_columns() -> None:
    ws = Workspace(":memory:")
    ws.import_deals(require(IBM_CSV), on_duplicate="keep-last")
    post = {f.name for f in ws.field_catalog() if f.post_outcome and f.analyse}
    result = ws.analyze()
    ws.close()
    assert len(set(result.post_outcome_attributes)) == 7
    assert result.findings and not math.isnan(result.baseline_win_rate)
    assert any(f.post_outcome for f in result.findings)
    assert any(not f.post_outcome for f in result.findings)
    for f in result.findings:
        fields = {c.field for c in f.conditions}
        assert f.post_outcome == bool(fields & post)
        assert set(f.post_outcome_fields) == fields & post
        if f.post_outcome:
            assert "known only after the outcome" in f.statement
        assert not fields & {"loss_reason", "win_reason"}
    assert any("quarter-over-quarter" in n for n in result.notes)


def test_conditions_select_deals_and_read_as_words() -> None:
    from winloss.analyze.concentrations.conditions import Condition
    from winloss.analyze.deal_table import CategoricalColumn, NumericColumn

    days = NumericColumn("days_to_critical_event", np.array([10.0, 120.0, 121.0, np.nan]), True)
    pain = CategoricalColumn(
        "pain_category", np.array([0, 1, -1, 0], dtype=np.int32), ("ux", "cost")
    )
    engaged = CategoricalColumn(
        "decision_maker_engaged", np.array([1, 0, 0, -1], dtype=np.int32), (False, True)
    )
    assert Condition("days_to_critical_event", "<=", 120).mask(days).tolist() == [
        True,
        True,
        False,
        False,
    ]
    assert Condition("days_to_critical_event", "between", (120, 121)).mask(days).tolist() == [
        False,
        True,
        True,
        False,
    ]
    assert Condition("days_to_critical_event", "is_missing", True).mask(days).tolist() == [
        False,
        False,
        False,
        True,
    ]
    assert Condition("pain_category", "==", "ux").mask(pain).tolist() == [True, False, False, True]
    assert Condition("pain_category", "!=", "ux").mask(pain).tolist() == [False, True, False, False]
    assert Condition("decision_maker_engaged", "==", False).mask(engaged).tolist() == [
        False,
        True,
        True,
        False,
    ]
    assert Condition("days_to_critical_event", "<=", 120).phrase(integer=True) == (
        "whose critical event was at most 120 days away"
    )
    assert Condition("stakeholders", "<=", 1).phrase(integer=True) == "with at most 1 stakeholder"
    assert Condition("decision_maker_engaged", "==", False).phrase() == (
        "where the decision maker was not engaged"
    )
    assert Condition("pain_category", "is_missing", True).phrase() == ("with no main pain recorded")


def test_statistics_of_every_related_finding_match_a_direct_count(
    planted_ws: Workspace, planted_result: ConcentrationResult
) -> None:
    """The related tier's counts, interval, lift and p-value. References: pandas counts,
    statsmodels' Wilson interval, scipy's Fisher exact test (tolerance 1e-9)."""
    deals = planted_ws.closed_deals()
    won = (deals["outcome"] == "won").to_numpy()
    total, wins = len(deals), int(won.sum())
    assert planted_result.related
    for f in planted_result.related:
        assert f.id.startswith("R") and f.tier == "related" and len(f.conditions) == 1
        mask = _direct_mask(deals, f.to_dict()["conditions"])
        n, w = int(mask.sum()), int((mask & won).sum())
        assert (f.n, f.wins, f.rest_n, f.rest_wins) == (n, w, total - n, wins - w)
        assert f.win_rate == pytest.approx(w / n)
        assert f.difference == pytest.approx(w / n - (wins - w) / (total - n))
        assert f.lift == pytest.approx((w / n) / (wins / total))
        low, high = proportion_confint(w, n, method="wilson")
        assert (f.ci_low, f.ci_high) == (
            pytest.approx(low, abs=1e-9),
            pytest.approx(high, abs=1e-9),
        )
        # the exact Fisher p-value, as for the drivers, however far in the tail
        reference = stats.fisher_exact([[w, n - w], [wins - w, total - n - (wins - w)]]).pvalue
        assert f.p_value == pytest.approx(reference, rel=1e-6)
        assert f.adjusted_effect is None and f.quarters_held is None


def _small_company(seed: int = 0) -> pd.DataFrame:
    """60 closed deals (a trial's Salesforce file): partner-sourced deals win 14 of 16, the
    rest 8 of 44; region, industry and owner carry nothing."""
    rng = np.random.default_rng(seed)
    source = np.array(["partner"] * 16 + list(rng.choice(["web", "outbound", "event"], 44)))
    won = np.array([True] * 14 + [False] * 2 + [True] * 8 + [False] * 36)
    return pd.DataFrame(
        {
            "deal_id": [f"S{i:03d}" for i in range(60)],
            "outcome": np.where(won, "won", "lost"),
            "source": source,
            "region": rng.choice(["east", "west"], 60),
            "industry": rng.choice(["retail", "health", "finance", "media"], 60),
            "owner": rng.choice(["Ann", "Bo", "Cy"], 60),
        }
    )


def test_a_strong_16_deal_group_of_a_small_store_is_a_finding() -> None:
    """The default minimum group is 10 deals on a small store (was 20: this group went untested
    and the analysis said nothing stood out). Fisher's exact p = 1.5e-6 by scipy."""
    deals = _small_company()
    p = stats.fisher_exact([[14, 2], [8, 36]]).pvalue
    assert p < 2e-6
    ws = Workspace.from_file(deals)
    result = ws.analyze()
    ws.close()
    top = result.findings[0]
    assert _fields(top) == ("source",) and top.direction == "win"
    assert (top.n, top.wins) == (16, 14)


def test_a_small_store_without_findings_says_what_was_not_tested() -> None:
    """Label shuffles of the 60-deal store: at most 1 of 20 shows a finding at the new default;
    one that shows none says that groups under the minimum were not tested."""
    deals = _small_company()
    analysis = ConcentrationAnalysis(bootstrap=0, record=False)
    ws = Workspace.from_file(deals)
    table = analysis.load(ws.store)
    ws.close()
    results = [
        analysis.run_table(table.with_outcomes(shuffled_outcomes(table.won, seed)))
        for seed in range(20)
    ]
    assert sum(bool(r.findings) for r in results) <= 1
    empty = next(r for r in results if not r.findings)
    assert any("fewer than 10 deals" in w and "--min-support" in w for w in empty.warnings)


def test_an_interval_narrower_than_a_point_is_printed_with_a_decimal() -> None:
    """IBM's 38,760-deal finding read "won only 15 % (95 % CI 15–15 %)"."""
    from winloss.analyze.concentrations.finding_statements import percent_range

    assert percent_range(0.1468, 0.1537) == "14.7–15.4"
    assert percent_range(0.48, 0.56) == "48–56"
    assert percent_range(0.0, 0.0) == "0–0"  # no interval to show: nothing invented
