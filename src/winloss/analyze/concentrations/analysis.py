"""Win/loss concentrations: where wins and losses cluster, with their evidence.

>>> from winloss import DuckDBStore
>>> from winloss.analyze.concentrations.analysis import ConcentrationAnalysis
>>> result = ConcentrationAnalysis(deal_filter=DealFilter(quarter="2026Q3")).run(store)  # doctest: +SKIP
>>> result.summary                                                                    # doctest: +SKIP

The method (details in docs/concentrations.md):

1. candidate conditions: every categorical value with enough deals, missingness, and thresholds
   and ranges of numeric fields at cut points taken from the data; pairs of conditions (depth 2);
2. tests: exact Fisher p-values — a single condition against the rest of the deals, a combination
   against each of its parts (so it is reported only when it says more than its parts);
3. multiple testing over every hypothesis tried, grouped in families (Benjamini & Bogomolov 2014);
4. non-redundant selection, a bootstrap interval for every discovered cut point, an adjusted effect
   from a penalised logistic model over the findings, the share of won revenue;
5. quarter over quarter: each finding's win rate in earlier quarters and the findings register.
"""

from __future__ import annotations

import dataclasses
import math
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from winloss.analyze.base import AnalysisInputs, period_of
from winloss.analyze.concentrations.adjusted_effects import fit_adjusted_effects
from winloss.analyze.concentrations.candidate_attributes import (
    catalog_candidates,
    informative_attributes,
)
from winloss.analyze.concentrations.conditions import Condition
from winloss.analyze.concentrations.finding_selection import (
    Candidate,
    bootstrap_cut_interval,
    discoveries,
    exact_p_values,
    family_q_values,
    select_findings,
)
from winloss.analyze.concentrations.finding_statements import statement
from winloss.analyze.concentrations.findings_register import (
    QuarterRate,
    RegisterEntry,
    RegisterRow,
    compare_with_previous,
    rates_by_quarter,
    read_register,
    write_register,
)
from winloss.analyze.concentrations.related_findings import (
    RelatedCondition,
    related_conditions,
    single_q_values,
)
from winloss.analyze.concentrations.result import ConcentrationResult, Finding, finite
from winloss.analyze.concentrations.subgroup_search import (
    Hypotheses,
    SearchSettings,
    search,
    to_condition,
)
from winloss.analyze.deal_table import DealTable, NumericColumn, load_deal_table
from winloss.analyze.stats.intervals import wilson_interval
from winloss.errors import InsufficientDataError, UsageError
from winloss.store.summary_queries import deal_import_notes

if TYPE_CHECKING:
    from winloss.model.deals import DealField, DealFilter
    from winloss.store.duckdb_store import DuckDBStore

MIN_CLOSED_DEALS = 20


@dataclass(frozen=True)
class _Core:
    """The search's outcome on one table, before words and quarters."""

    findings: list[dict[str, Any]]
    hypotheses_tested: int
    families_tested: int
    families_selected: int
    related: list[RelatedCondition] = dataclasses.field(default_factory=list)
    related_left_off: int = 0


class ConcentrationOptions(TypedDict, total=False):
    """Keyword settings of :class:`ConcentrationAnalysis` besides the filter (the facade's
    ``Workspace.analyze(flt, **options)``)."""

    alpha: float
    max_depth: int
    min_support: int | None
    min_support_fraction: float
    max_cuts: int
    range_cuts: int
    pair_cuts: int
    max_findings: int
    max_overlap: float
    min_difference: float
    bootstrap: int
    lookback_quarters: int
    fields: tuple[str, ...] | None
    exclude: tuple[str, ...]
    ridge: float
    record: bool
    seed: int


#: The smallest group a condition may cover by default (see ``ConcentrationAnalysis.min_support``).
MIN_SUPPORT = 10


@dataclass(frozen=True)
class ConcentrationAnalysis:
    """Settings of a concentration analysis; :meth:`run` it on a workspace.

    Parameters
    ----------
    deal_filter
        Which closed deals (quarter, since/until, segment, owner); all closed deals by default.
    alpha
        False-discovery level of the findings.
    max_depth
        1: single conditions; 2: also pairs of conditions.
    min_support
        Fewest deals a condition must cover (and leave out); by default the larger of
        :data:`MIN_SUPPORT` (10) and ``min_support_fraction`` of the deals. (It was 20: on a
        60-deal store a 16-deal source that won 88 % against 18 % — Fisher p = 1.5e-6 — went
        untested and the analysis said nothing stood out. The false-discovery control, not the
        group size, keeps small groups honest; their intervals say how little they prove.)
    max_cuts, range_cuts, pair_cuts
        Candidate cut points per numeric field for thresholds, ranges and combinations.
    max_findings, max_overlap
        At most this many findings; a finding overlapping a stronger one of the same direction by
        at least ``max_overlap`` (Jaccard) is a near-copy and dropped.
    min_difference
        A finding must move the win rate by at least this much beyond what the stronger findings
        already explain (0.02 = 2 percentage points).
    bootstrap
        Replicates of the bootstrap interval of discovered cut points.
    lookback_quarters
        Earlier quarters compared when a single quarter is analysed.
    fields, exclude
        Restrict the candidate attributes.
    record
        Record the findings register when a single quarter is analysed.
    """

    deal_filter: DealFilter | None = None
    alpha: float = 0.05
    max_depth: int = 2
    min_support: int | None = None
    min_support_fraction: float = 0.01
    max_cuts: int = 100
    range_cuts: int = 19
    pair_cuts: int = 9
    max_findings: int = 20
    max_overlap: float = 0.5
    min_difference: float = 0.02
    bootstrap: int = 200
    lookback_quarters: int = 8
    fields: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    ridge: float = 1.0
    record: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise UsageError("alpha must be between 0 and 1, e.g. 0.05")
        if self.max_depth not in (1, 2):
            raise UsageError("max_depth must be 1 (single conditions) or 2 (pairs)")
        if self.min_support is not None and self.min_support < 1:
            raise UsageError("min_support must be at least 1 deal")
        if self.max_findings < 1 or not 0 < self.max_overlap <= 1:
            raise UsageError("max_findings must be at least 1 and max_overlap in (0, 1]")

    # -- settings ---------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["deal_filter"] = self.deal_filter.describe() if self.deal_filter else None
        return out

    def support_for(self, deals: int) -> int:
        if self.min_support is not None:
            return self.min_support
        return max(MIN_SUPPORT, math.ceil(self.min_support_fraction * deals))

    # -- running ----------------------------------------------------------------------------
    def run(self, store: DuckDBStore) -> ConcentrationResult:
        """Analyse the closed deals of ``store`` selected by :attr:`deal_filter`."""
        return self._run(store, with_register=self.record)

    def load(self, store: DuckDBStore) -> DealTable:
        """The closed deals this analysis looks at, with its candidate attributes only."""
        table, _, names, _ = self._load(store, self.deal_filter)
        return dataclasses.replace(table, columns={n: table.columns[n] for n in names})

    def _load(
        self, store: DuckDBStore, flt: DealFilter | None
    ) -> tuple[DealTable, list[DealField], list[str], dict[str, str]]:
        fields, skipped = catalog_candidates(
            store.field_catalog(), only=self.fields, exclude=self.exclude
        )
        table = load_deal_table(store, flt, fields)
        _check_sufficient(table, flt)
        names, empty = informative_attributes(table, fields)
        skipped.update(empty)
        if not names:
            raise InsufficientDataError(
                "no attribute has values to compare in these deals; import deals with more "
                "columns (see `winloss schema`)"
            )
        return table, fields, names, skipped

    def run_table(self, table: DealTable) -> ConcentrationResult:
        """Analyse an already loaded :class:`DealTable` (no quarters, no register)."""
        started = time.perf_counter()
        names = list(table.columns)
        fields = list(table.fields.values())
        core = self._core(table, names)
        findings = self._words(core, table, {}, earlier=False)
        return self._result(
            table,
            fields,
            names,
            {},
            core,
            findings,
            None,
            (),
            [],
            started,
            period="table",
            filters={},
            run_id=None,
        )

    def _run(
        self, store: DuckDBStore, *, with_register: bool, compare_previous: bool = True
    ) -> ConcentrationResult:
        started = time.perf_counter()
        flt = self.deal_filter
        if flt is not None and flt.quarter:
            flt = dataclasses.replace(flt, quarter=str(store.quarter(flt.quarter)))
            if flt != self.deal_filter:
                return dataclasses.replace(self, deal_filter=flt)._run(
                    store, with_register=with_register, compare_previous=compare_previous
                )
        table, fields, names, skipped = self._load(store, flt)
        notes = _file_notes(store)
        core = self._core(table, names)
        dated = table.quarter is not None and bool((table.quarter.codes >= 0).any())
        history: dict[int, list[QuarterRate]] = {}
        quarters: tuple[str, ...] = ()
        single_quarter = bool(flt is not None and flt.quarter)
        if not dated and not any("quarter-over-quarter" in n for n in notes):
            notes.append(
                "the deals have no close dates: quarter-over-quarter comparison and the "
                "findings register are skipped"
            )
        elif core.findings:
            history_table = self._history_table(store, core, fields) if single_quarter else table
            for i, f in enumerate(core.findings):
                history[i] = rates_by_quarter(f["conditions"], history_table)
            if history_table.quarter is not None:
                quarters = tuple(sorted(str(q) for q in history_table.quarter.labels))
        if not single_quarter and table.quarter is not None:
            seen = np.unique(table.quarter.codes[table.quarter.codes >= 0])
            quarters = tuple(sorted(str(table.quarter.labels[i]) for i in seen))
        findings = self._words(core, table, history, earlier=single_quarter)
        register: tuple[RegisterEntry, ...] | None = None
        run_id = str(uuid.uuid4())
        result = self._result(
            table,
            fields,
            names,
            skipped,
            core,
            findings,
            register,
            quarters,
            notes,
            started,
            period=_period_label(flt),
            filters=_filters(flt),
            run_id=run_id,
        )
        if single_quarter and dated and compare_previous:
            result = self._with_register(store, result, record=with_register, notes=notes)
        elif not single_quarter and dated:
            notes.append(
                "the findings register is kept per quarter: analyse one quarter "
                "(--quarter) to record it and compare with the previous quarter"
            )
            result = dataclasses.replace(result, notes=tuple(notes))
        return result

    # -- the search -------------------------------------------------------------------------
    def _core(self, table: DealTable, names: list[str]) -> _Core:
        total, wins = table.n, table.wins
        support = self.support_for(total)
        settings = SearchSettings(
            min_support=support,
            max_depth=self.max_depth,
            max_cuts=self.max_cuts,
            range_cuts=self.range_cuts,
            pair_cuts=self.pair_cuts,
        )
        hyp, attrs = search(table, names, settings)
        q, selected, n_families = family_q_values(hyp, self.alpha)
        candidates = discoveries(hyp, q, total, wins, self.alpha)
        post = {
            name: bool(table.fields[name].post_outcome) if name in table.fields else False
            for name in names
        }
        post_attr = [post[a.name] for a in attrs]
        # predictive findings first: a field known only after the outcome (the cycle length)
        # must not "explain away" the pre-outcome facts that caused it
        candidates.sort(key=lambda c: any(post_attr[x.attribute] for x in c.conditions))
        chosen = select_findings(
            candidates,
            attrs,
            table.won,
            max_findings=self.max_findings,
            max_overlap=self.max_overlap,
            min_difference=self.min_difference,
            ridge=self.ridge,
        )
        adjusted = self._adjusted(
            [m for _, m in chosen], [c for c, _ in chosen], table.won, post, attrs
        )
        explained = self._explained_parts([c for c, _ in chosen], adjusted)
        if explained:
            # "referral deals win more" is misleading when only referral deals in healthcare do
            chosen = [pair for i, pair in enumerate(chosen) if i not in explained]
            adjusted = self._adjusted(
                [m for _, m in chosen], [c for c, _ in chosen], table.won, post, attrs
            )
        related, left_off = related_conditions(
            hyp, q, attrs, table.won, chosen, post_attr, alpha=self.alpha, ridge=self.ridge
        )
        # the exact Fisher p-values of what is shown (the search approximates far in the tail),
        # and the q-values recomputed with them: a q from the approximation (1e-107) printed
        # beside the exact p (5e-102) read as a corrected value below its own raw one
        driver_p = [exact_p_values(cand, cand.n, cand.wins, total, wins, hyp) for cand, _ in chosen]
        related_p = [
            exact_p_values(r.candidate, r.candidate.n, r.candidate.wins, total, wins, hyp)[0]
            for r in related
        ]
        tested = dict(zip([r.candidate.hypothesis for r in related], related_p, strict=True))
        for (cand, _), (p_rest, p_added) in zip(chosen, driver_p, strict=True):
            tested[cand.hypothesis] = p_added if p_added is not None else p_rest
        q, q_single = _exact_q_values(hyp, attrs, tested, self.alpha)
        chosen = [
            (dataclasses.replace(cand, q_value=float(q[cand.hypothesis])), mask)
            for cand, mask in chosen
        ]
        related = [
            dataclasses.replace(
                r,
                candidate=dataclasses.replace(
                    r.candidate, p_value=p, q_value=float(q[r.candidate.hypothesis])
                ),
                q_single=float(q_single[r.candidate.hypothesis]),
            )
            for r, p in zip(related, related_p, strict=True)
        ]
        won_amount = None
        if table.amount is not None and np.isfinite(table.amount[table.won]).any():
            won_amount = np.where(table.won & np.isfinite(table.amount), table.amount, 0.0)
        findings: list[dict[str, Any]] = []
        for number, ((cand, mask), effect, (p_rest, p_added)) in enumerate(
            zip(chosen, adjusted, driver_p, strict=True)
        ):
            cand = dataclasses.replace(cand, p_value=p_rest, p_added=p_added)
            conditions = tuple(to_condition(c, attrs[c.attribute]) for c in cand.conditions)
            interval = None
            if len(cand.conditions) == 1:
                coded = cand.conditions[0]
                bounds = bootstrap_cut_interval(
                    coded,
                    attrs[coded.attribute],
                    table.won,
                    cand.direction,
                    support,
                    self.bootstrap,
                    self.seed + number,
                )
                if bounds is not None:
                    interval = {
                        "field": conditions[0].field,
                        "of": "cut" if coded.kind != "window" else "centre",
                        "low": bounds[0],
                        "high": bounds[1],
                        "confidence": 0.95,
                        "replicates": self.bootstrap,
                    }
            share = (
                float(won_amount[mask].sum() / won_amount.sum())
                if won_amount is not None and won_amount.sum() > 0
                else None
            )
            findings.append(
                {
                    "candidate": cand,
                    "conditions": conditions,
                    "mask": mask,
                    "adjusted": effect,
                    "threshold_interval": interval,
                    "share": share,
                    "post_fields": tuple(
                        dict.fromkeys(c.field for c in conditions if post[c.field])
                    ),
                }
            )
        if won_amount is not None and won_amount.sum() > 0:
            related = [
                dataclasses.replace(
                    r, won_revenue_share=float(won_amount[r.mask].sum() / won_amount.sum())
                )
                for r in related
            ]
        return _Core(findings, hyp.size, n_families, selected, related, left_off)

    def _explained_parts(self, cands: list[Any], adjusted: list[Any]) -> set[int]:
        """Single findings on a field of a kept combination that do not hold once adjusted:
        their effect is the combination's, shown where it lives."""
        pair_fields = [
            frozenset(c.attribute for c in cand.conditions)
            for cand in cands
            if len(cand.conditions) > 1
        ]
        out: set[int] = set()
        for i, (cand, effect) in enumerate(zip(cands, adjusted, strict=True)):
            if len(cand.conditions) != 1 or effect is None:
                continue
            if not any(cand.conditions[0].attribute in fields for fields in pair_fields):
                continue
            holds = effect.p_value <= self.alpha and (effect.coefficient > 0) == (
                cand.direction == "win"
            )
            if not holds:
                out.add(i)
        return out

    def _adjusted(
        self,
        masks: list[np.ndarray],
        cands: list[Any],
        won: np.ndarray,
        post: dict[str, bool],
        attrs: list[Any],
    ) -> list[Any]:
        """Adjusted effects: findings on pre-outcome fields are adjusted for each other only
        (a post-outcome field could absorb what caused it); post-outcome findings for all."""
        if not masks:
            return []
        is_post = [any(post[attrs[c.attribute].name] for c in cand.conditions) for cand in cands]
        out: list[Any] = [None] * len(masks)
        before = [i for i, p in enumerate(is_post) if not p]
        if before:
            fitted = fit_adjusted_effects(
                np.column_stack([masks[i] for i in before]), won, ridge=self.ridge
            )
            for i, effect in zip(before, fitted, strict=True):
                out[i] = effect
        if len(before) < len(masks):
            fitted = fit_adjusted_effects(np.column_stack(masks), won, ridge=self.ridge)
            for i, effect in enumerate(fitted):
                if is_post[i]:
                    out[i] = effect
        return out

    # -- words and quarters -----------------------------------------------------------------
    def _words(
        self, core: _Core, table: DealTable, history: dict[int, list[QuarterRate]], *, earlier: bool
    ) -> list[Finding]:
        total, wins = table.n, table.wins
        integers = _integer_fields(table)
        out: list[Finding] = []
        for number, f in enumerate(core.findings, start=1):
            cand = f["candidate"]
            conditions = f["conditions"]
            counts = _counts(cand, conditions, total, wins)
            effect = f["adjusted"]
            holds = None
            if effect is not None:
                same_sign = (effect.coefficient > 0) == (cand.direction == "win")
                holds = bool(effect.p_value <= self.alpha and same_sign)
            rates = tuple(history.get(number - 1, ()))
            if earlier and rates:
                rates = tuple(r for r in rates if r.quarter < _period_quarter(self.deal_filter))
            seen = [r for r in rates if r.seen]
            held = sum(r.held(cand.direction) for r in seen) if rates else None
            n_seen = len(seen) if rates else None
            post_fields = f["post_fields"]
            text = statement(
                conditions,
                direction=cand.direction,
                n=counts["n"],
                win_rate=counts["win_rate"],
                ci_low=counts["ci_low"],
                ci_high=counts["ci_high"],
                rest_win_rate=counts["rest_win_rate"],
                quarters_held=held,
                quarters_seen=n_seen,
                earlier_quarters=earlier,
                post_outcome_fields=post_fields,
                holds_when_adjusted=holds,
                integers=integers,
            )
            out.append(
                Finding(
                    id=f"F{number}",
                    **counts,
                    p_value_added=cand.p_added,
                    adjusted_effect=finite(effect.average_effect) if effect else None,
                    adjusted_odds_ratio=finite(effect.odds_ratio) if effect else None,
                    adjusted_p_value=finite(effect.p_value) if effect else None,
                    holds_when_adjusted=holds,
                    post_outcome=bool(post_fields),
                    post_outcome_fields=post_fields,
                    won_revenue_share=f["share"],
                    threshold_interval=f["threshold_interval"],
                    quarters_held=held,
                    quarters_seen=n_seen,
                    by_quarter=rates,
                    register_status=None,
                    statement=text,
                )
            )
        return out

    def _related_words(self, core: _Core, table: DealTable) -> list[Finding]:
        """The related tier: each significant single condition that is not a driver, with the
        drivers that explain it and its effect given them."""
        total, wins = table.n, table.wins
        integers = _integer_fields(table)
        driver_ids = [f"F{i}" for i in range(1, len(core.findings) + 1)]
        out: list[Finding] = []
        for number, r in enumerate(core.related, start=1):
            cand = r.candidate
            conditions = (r.condition,)
            counts = _counts(cand, conditions, total, wins)
            post_fields = tuple(
                c.field
                for c in conditions
                if table.fields.get(c.field) is not None and table.fields[c.field].post_outcome
            )
            explained = tuple(driver_ids[i] for i in r.explained_by)
            given = [driver_ids[i] for i in r.given]
            holds = r.conditional_p_value <= self.alpha and (r.conditional_difference > 0) == (
                cand.direction == "win"
            )
            text = statement(
                conditions,
                direction=cand.direction,
                n=counts["n"],
                win_rate=counts["win_rate"],
                ci_low=counts["ci_low"],
                ci_high=counts["ci_high"],
                rest_win_rate=counts["rest_win_rate"],
                quarters_held=None,
                quarters_seen=None,
                earlier_quarters=False,
                post_outcome_fields=post_fields,
                holds_when_adjusted=None,
                integers=integers,
            )
            if explained:
                text = text[:-1] + f"; related to {', '.join(explained)}"
                one = len(explained) == 1
                text += (
                    f", and it still adds to {'it' if one else 'them'}"
                    if holds
                    else f", which {'explains' if one else 'explain'} it"
                ) + "."
            elif given and not holds:
                text = text[:-1] + "; the drivers together explain it."
            out.append(
                Finding(
                    id=f"R{number}",
                    **counts,
                    p_value_added=None,
                    adjusted_effect=None,
                    adjusted_odds_ratio=None,
                    adjusted_p_value=None,
                    holds_when_adjusted=None,
                    post_outcome=bool(post_fields),
                    post_outcome_fields=post_fields,
                    won_revenue_share=r.won_revenue_share,
                    threshold_interval=None,
                    quarters_held=None,
                    quarters_seen=None,
                    by_quarter=(),
                    register_status=None,
                    statement=text,
                    tier="related",
                    explained_by=explained,
                    conditional_effect={
                        "given": given,
                        "difference": finite(r.conditional_difference),
                        "p_value": finite(r.conditional_p_value),
                        "holds": bool(holds),
                    },
                    similar_conditions=r.similar_conditions,
                    q_value_single=finite(r.q_single),
                )
            )
        return out

    def _history_table(self, store: DuckDBStore, core: _Core, fields: list[DealField]) -> DealTable:
        """Closed deals of the earlier quarters (same segment/owner), for the findings' fields."""
        assert self.deal_filter is not None and self.deal_filter.quarter
        quarter = store.quarter(self.deal_filter.quarter)
        first = quarter
        for _ in range(self.lookback_quarters):
            first = first.previous()
        used = {c.field for f in core.findings for c in f["conditions"]}
        flt = dataclasses.replace(self.deal_filter, quarter=None, since=None, until=None)
        return load_deal_table(
            store,
            flt,
            [f for f in fields if f.name in used],
            since=first.start,
            until=quarter.previous().end,
        )

    def _with_register(
        self, store: DuckDBStore, result: ConcentrationResult, *, record: bool, notes: list[str]
    ) -> ConcentrationResult:
        assert self.deal_filter is not None and self.deal_filter.quarter
        previous_quarter = str(store.quarter(self.deal_filter.quarter).previous())
        scope = _scope_suffix(self.deal_filter)
        previous = read_register(store, previous_quarter + scope)
        if previous is None:
            try:
                earlier = dataclasses.replace(
                    self,
                    deal_filter=dataclasses.replace(self.deal_filter, quarter=previous_quarter),
                    record=False,
                )._run(store, with_register=False, compare_previous=False)
                previous = {f.key: _register_row(f) for f in earlier.findings}
                notes.append(
                    f"{previous_quarter} was not recorded: compared with a fresh "
                    f"analysis of {previous_quarter}"
                )
            except InsufficientDataError:
                previous = {}
                notes.append(
                    f"too few closed deals in {previous_quarter} to compare with: "
                    "every finding is new"
                )
        current = [_register_row(f) for f in result.findings]
        entries = compare_with_previous(current, previous)
        status = {e.key: e.status for e in entries}
        findings = tuple(
            dataclasses.replace(f, register_status=status.get(f.key)) for f in result.findings
        )
        result = dataclasses.replace(
            result, findings=findings, register=tuple(entries), notes=tuple(notes)
        )
        if record:
            write_register(
                store,
                period=str(self.deal_filter.quarter) + scope,
                run_id=result.run_id or "",
                params=result.settings,
                result=result.to_dict(),
                current=[_register_row(f) for f in findings],
                entries=entries,
            )
        return result

    def _result(
        self,
        table: DealTable,
        fields: list[DealField],
        names: list[str],
        skipped: dict[str, str],
        core: _Core,
        findings: list[Finding],
        register: tuple[RegisterEntry, ...] | None,
        quarters: tuple[str, ...],
        notes: list[str],
        started: float,
        *,
        period: str,
        filters: dict[str, Any],
        run_id: str | None,
    ) -> ConcentrationResult:
        from winloss import __version__

        post = tuple(n for n in names if n in table.fields and table.fields[n].post_outcome)
        warnings: list[str] = []
        if table.n < 200:
            warnings.append(f"only {table.n} closed deals: only large differences can be detected")
        if core.hypotheses_tested == 0:
            support = self.support_for(table.n)
            warnings.append(
                f"no condition could be tested: a condition needs at least "
                f"{support} deals (min_support) and deals outside it; lower it with "
                "--min-support, knowing that small groups prove little"
            )
        elif not findings and not core.related:
            warnings.append(
                f"conditions covering fewer than {self.support_for(table.n)} deals, or leaving "
                "fewer outside them, were not tested (min_support); lower it with "
                "--min-support, knowing that small groups prove little"
            )
        if any(f.post_outcome for f in findings):
            warnings.append(
                "findings marked post_outcome use fields known only after the "
                "outcome: they explain, they do not predict"
            )
        if core.related_left_off:
            notes.append(
                f"{core.related_left_off} more related finding(s) not listed (the "
                "strongest 100 are)"
            )
        if len(core.findings) >= self.max_findings:
            notes.append(
                f"showing the strongest {self.max_findings} non-redundant findings (max_findings)"
            )
        return ConcentrationResult(
            period=period,
            filters=filters,
            deals=table.n,
            wins=table.wins,
            baseline_win_rate=table.wins / table.n,
            hypotheses_tested=core.hypotheses_tested,
            families_tested=core.families_tested,
            families_selected=core.families_selected,
            alpha=self.alpha,
            findings=tuple(findings),
            register=register,
            attributes=tuple(names),
            post_outcome_attributes=post,
            skipped_attributes=dict(sorted(skipped.items())),
            quarters=quarters,
            notes=tuple(notes),
            warnings=tuple(warnings),
            settings=self.settings(),
            run_id=run_id,
            elapsed_seconds=round(time.perf_counter() - started, 3),
            inputs=AnalysisInputs(
                n=table.n,
                period=period,
                filters=filters,
                version=__version__,
                details={"wins": table.wins},
            ),
            version=__version__,
            related=tuple(self._related_words(core, table)),
        )


def _file_notes(store: DuckDBStore) -> list[str]:
    """What reading a file for direct analysis noted (generated ids, no dates, duplicates)."""
    if store.path != ":memory:":
        return []
    return deal_import_notes(store)


def _check_sufficient(table: DealTable, flt: DealFilter | None) -> None:
    label = _period_label(flt) if flt is not None else "all"
    where = f" in {label}" if label != "all" else ""
    if table.n < MIN_CLOSED_DEALS:
        advice = flt.advice() if flt is not None else "import more deals"
        raise InsufficientDataError(
            f"only {table.n} closed deal(s){where}; concentrations need at least "
            f"{MIN_CLOSED_DEALS}: {advice}"
        )
    if table.wins == 0 or table.wins == table.n:
        outcome = "lost" if table.wins == 0 else "won"
        raise InsufficientDataError(
            f"every closed deal{where} was {outcome}; concentrations compare wins with losses: "
            "widen the period or check the outcome mapping (--won-value)"
        )


def _period_label(flt: DealFilter | None) -> str:
    return period_of(flt)


def _period_quarter(flt: DealFilter | None) -> str:
    return str(flt.quarter).upper() if flt is not None and flt.quarter else ""


def _filters(flt: DealFilter | None) -> dict[str, Any]:
    if flt is None:
        return {}
    return {k: v for k, v in flt.describe().items() if v is not None}


def _scope_suffix(flt: DealFilter) -> str:
    parts = [f"{k}={getattr(flt, k)}" for k in ("segment", "owner") if getattr(flt, k)]
    return (" " + " ".join(parts)) if parts else ""


def _finding_key(conditions: tuple[Condition, ...], direction: str) -> str:
    return f"{direction}: " + " & ".join(sorted(c.key() for c in conditions))


def _integer_fields(table: DealTable) -> frozenset[str]:
    """The numeric columns holding whole numbers (their thresholds are worded as integers)."""
    return frozenset(
        name
        for name, col in table.columns.items()
        if isinstance(col, NumericColumn) and col.integer
    )


def _counts(
    cand: Candidate, conditions: tuple[Condition, ...], total: int, wins: int
) -> dict[str, Any]:
    """The :class:`Finding` fields a driver and a related finding share: the key, the deals in
    and outside the group with their win rates (Wilson interval inside), the difference, the lift
    over the overall win rate, and the raw and corrected p-values."""
    n, w = cand.n, cand.wins
    rate = w / n
    rest_n, rest_w = total - n, wins - w
    rest_rate = rest_w / rest_n if rest_n else float("nan")
    low, high = (float(v[0]) for v in wilson_interval([w], [n]))
    return {
        "key": _finding_key(conditions, cand.direction),
        "conditions": conditions,
        "direction": cand.direction,
        "n": n,
        "wins": w,
        "win_rate": rate,
        "ci_low": low,
        "ci_high": high,
        "rest_n": rest_n,
        "rest_wins": rest_w,
        "rest_win_rate": rest_rate,
        "difference": rate - rest_rate,
        "lift": rate / (wins / total),
        "p_value": cand.p_value,
        "q_value": cand.q_value,
    }


def _register_row(f: Finding) -> RegisterRow:
    return RegisterRow(f.key, f.direction, f.statement, f.difference, f.to_dict())


def _exact_q_values(
    hyp: Hypotheses, attrs: list[Any], exact: dict[int, float], alpha: float
) -> tuple[Any, Any]:
    """The q-values over every hypothesis and among the single conditions, with the exact
    p-values of the shown hypotheses (``exact``: hypothesis → p) in place of the search's
    approximations, so that every shown q is at least its exact p."""
    p = hyp.p_value.copy()
    for h, value in exact.items():
        if np.isfinite(value):
            p[h] = value
    exact_hyp = dataclasses.replace(hyp, p_value=p)
    q, _selected, _families = family_q_values(exact_hyp, alpha)
    return q, single_q_values(exact_hyp, attrs, alpha)
