"""Markov chains over deal paths (``winloss paths markov``) and the next best action for open deals
(``winloss next-action``).

P(win | state) is the exact absorption probability of the fitted chain; intervals are bootstrap
percentiles over deals. The next best action of an open deal ranks the actions seen after its
current state by P(win) of the state they lead to. This is association learnt from past deals, not
the effect of taking the action: deals that got an executive meeting may have been winning already.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd
from scipy.stats import norm

from winloss.analyze.base import Analysis, AnalysisInputs, AnalysisResult
from winloss.analyze.paths.data import PathTable, PathVariants, as_store, load_paths, load_variants
from winloss.analyze.paths.fitting import ChainFit, FittedPaths, fit_paths
from winloss.analyze.stats.exact_tests import benjamini_hochberg
from winloss.errors import InsufficientDataError, UsageError
from winloss.store import paths_queries

if TYPE_CHECKING:
    from winloss.model.deals import DealFilter, DealSource

CAVEAT = (
    "Association learnt from past deals, not a causal effect: deals that took an action may "
    "have been winning already. Use the ranking to choose what to try, not as a promise."
)


class ChainOptions(TypedDict, total=False):
    """Keyword settings of :class:`PathChains` besides the filter."""

    by: str | None
    order: int | None
    max_order: int
    silent_days: float
    aged_days: float
    backoff: float
    bootstrap: int
    seed: int
    as_of: dt.datetime | None


class NextActionOptions(ChainOptions, total=False):
    """Keyword settings of :class:`NextAction` besides the filter and the deal ids."""

    top: int | None
    min_support: int


#: Bootstrap replicates behind every interval and micro-action test of the chains: one default
#: for the CLI, the demo, the report and the web app, so one fact has one number.
BOOTSTRAP = 200


@dataclass(frozen=True)
class ChainSettings:
    """Options shared by the chain analyses (each maps onto one CLI flag)."""

    deal_filter: DealFilter | None = None
    by: str | None = None
    order: int | None = 1  # None: chosen by held-out likelihood
    max_order: int = 3
    silent_days: float = 30.0
    aged_days: float = 180.0
    backoff: float = 5.0
    bootstrap: int = BOOTSTRAP
    seed: int = 0
    as_of: dt.datetime | None = None

    def load(self, source: DealSource) -> PathTable:
        if self.order is not None and not 1 <= self.order <= 4:
            raise UsageError("--order must be 1..4 (or auto)")
        if self.bootstrap < 0:
            raise UsageError("--bootstrap must be 0 or more")
        return load_paths(
            as_store(source),
            self.deal_filter,
            by=self.by,
            silent_days=self.silent_days,
            aged_days=self.aged_days,
            as_of=self.as_of,
        )

    def load_for_chains(self, source: DealSource) -> PathTable | PathVariants:
        """What the chains are fitted on: the distinct paths counted in the store for a fixed
        order; every deal's path when the order is chosen (that needs their creation order)."""
        if self.order is None:
            return self.load(source)
        if not 1 <= self.order <= 4:
            raise UsageError("--order must be 1..4 (or auto)")
        if self.bootstrap < 0:
            raise UsageError("--bootstrap must be 0 or more")
        return load_variants(
            as_store(source),
            self.deal_filter,
            by=self.by,
            silent_days=self.silent_days,
            aged_days=self.aged_days,
            as_of=self.as_of,
        )

    def fit(
        self, table: PathTable | PathVariants, extra: list[tuple[str, ...]] | None = None
    ) -> FittedPaths:
        weight = table.seqs.weight
        n_closed = int(round(weight[table.closed()].sum()))
        won = int(round(weight[table.seqs.outcome == 1].sum()))
        if n_closed < 10 or won == 0 or won == n_closed:
            raise InsufficientDataError(
                f"{n_closed} closed deals with activities ({won} won): the chain needs at "
                "least 10 closed deals with both outcomes; import more deals or widen the filter"
            )
        return fit_paths(
            table,
            order=self.order,
            max_order=self.max_order,
            backoff=self.backoff,
            bootstrap=self.bootstrap,
            seed=self.seed,
            segments=self.by is not None,
            extra_histories=extra,
        )


def _state_frame(fit: ChainFit) -> pd.DataFrame:
    lo, hi = fit.win_interval
    model = fit.model
    labels = [model.state_label(int(s)) for s in fit.chain.states]
    visits = [fit.visits(int(s)) for s in fit.chain.states]
    return pd.DataFrame(
        {
            "group": fit.name,
            "state": labels,
            "visits": visits,
            "p_win": fit.chain.p_win,
            "ci_low": lo,
            "ci_high": hi,
        }
    )


def _removal_frame(fit: ChainFit, actions: tuple[int, ...]) -> pd.DataFrame:
    lo, hi = fit.interval(fit.boot_removal)
    total = np.nansum(np.clip(fit.removal, 0, None))
    vocab = fit.model.vocabulary
    frame = pd.DataFrame(
        {
            "group": fit.name,
            "action": [vocab[a] for a in actions],
            "removal_effect": fit.removal,
            "ci_low": lo,
            "ci_high": hi,
            # normalised removal effects: ChannelAttribution's share of conversions
            "attribution_share": np.clip(fit.removal, 0, None) / total if total > 0 else np.nan,
            "attributed_wins": (
                np.clip(fit.removal, 0, None) / total * fit.n_won if total > 0 else np.nan
            ),
        }
    )
    return frame.sort_values(["removal_effect"], ascending=False).reset_index(drop=True)


MICRO_FDR = 0.05

MICRO_TEST_COLUMNS = [
    "group",
    "action",
    "removal_effect",
    "ci_low",
    "ci_high",
    "others_max",
    "others_ci_high",
    "pooled_removal_effect",
    "z",
    "p_value",
    "q_value",
    "finding",
]


def micro_action_tests(fitted: FittedPaths, fdr: float = MICRO_FDR) -> pd.DataFrame:
    """Every (segment, action) pair tested for "this action matters more here than in any other
    segment", with Benjamini–Hochberg q-values over the whole family of pairs.

    For segment g, action a and every other segment h, the one-sided Wald test of
    ``RE_g(a) > RE_h(a)`` uses the bootstrap standard error of the difference (the replicates
    resample deals, so the segments' replicates are independent); the pair's p-value is the largest
    over h (an intersection–union test of "above every other segment"). The family is every pair
    whose removal effect is defined; a pair is a finding when its q-value is below ``fdr``.
    """
    if len(fitted.segments) < 2 or fitted.bootstrap == 0:
        return pd.DataFrame(columns=MICRO_TEST_COLUMNS)
    names = list(fitted.segments)
    fits = [fitted.segments[n] for n in names]
    vocab = fitted.pooled.model.vocabulary
    pooled = fitted.pooled.removal
    rows: list[dict[str, Any]] = []
    for gi, fit in enumerate(fits):
        lo, hi = fit.interval(fit.boot_removal)
        for ai, tok in enumerate(fitted.action_tokens):
            est = float(fit.removal[ai])
            if not np.isfinite(est):
                continue
            p_worst, z_worst = 0.0, np.inf
            others_max, others_high = -np.inf, -np.inf
            for hi_, other in enumerate(fits):
                if hi_ == gi or not np.isfinite(other.removal[ai]):
                    continue
                diff = est - float(other.removal[ai])
                reps = fit.boot_removal[:, ai] - other.boot_removal[:, ai]
                reps = reps[np.isfinite(reps)]
                se = float(np.std(reps, ddof=1)) if reps.size > 1 else 0.0
                if se > 0:
                    z = diff / se
                    p = float(norm.sf(z))
                else:
                    z = np.inf if diff > 0 else -np.inf
                    p = 0.0 if diff > 0 else 1.0
                if p >= p_worst:
                    p_worst, z_worst = p, z
                others_max = max(others_max, float(other.removal[ai]))
                _, other_hi = other.interval(other.boot_removal[:, [ai]])
                others_high = max(others_high, float(other_hi[0]))
            if not np.isfinite(others_max):
                continue
            rows.append(
                {
                    "group": fit.name,
                    "action": vocab[tok],
                    "removal_effect": est,
                    "ci_low": float(lo[ai]),
                    "ci_high": float(hi[ai]),
                    "others_max": others_max,
                    "others_ci_high": others_high,
                    "pooled_removal_effect": float(pooled[ai]),
                    "z": float(z_worst),
                    "p_value": p_worst,
                }
            )
    frame = pd.DataFrame(rows, columns=MICRO_TEST_COLUMNS[:-2])
    frame["q_value"] = benjamini_hochberg(frame["p_value"].to_numpy(dtype=float))
    frame["finding"] = frame["q_value"] < fdr
    return frame.sort_values(["q_value", "group", "action"], kind="mergesort").reset_index(
        drop=True
    )


def micro_actions(tests: pd.DataFrame) -> pd.DataFrame:
    """The segment micro-actions: the tested pairs that survive the false-discovery control."""
    return tests[tests["finding"].astype(bool)].reset_index(drop=True)


@dataclass(frozen=True)
class ChainResult(AnalysisResult):
    """P(win | state), removal effects and segment micro-actions of the fitted chains."""

    inputs: AnalysisInputs
    order: int
    order_scores: dict[int, float]
    prior_strength: float
    bootstrap: int
    p_win_start: dict[str, float]
    states: pd.DataFrame
    removal_effects: pd.DataFrame
    micro_actions: pd.DataFrame
    warnings: tuple[str, ...] = field(default=())
    micro_action_tests: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=MICRO_TEST_COLUMNS)
    )
    micro_fdr: float = MICRO_FDR

    @property
    def summary(self) -> pd.DataFrame:
        return self.removal_effects

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs.to_dict(),
            "order": self.order,
            "order_scores": {str(k): v for k, v in self.order_scores.items()},
            "prior_strength": self.prior_strength,
            "bootstrap": self.bootstrap,
            "p_win_start": dict(self.p_win_start),
            "removal_effects": self.removal_effects.to_dict(orient="records"),
            "micro_actions": self.micro_actions.to_dict(orient="records"),
            "micro_action_fdr": self.micro_fdr,
            "micro_action_tests": self.micro_action_tests.to_dict(orient="records"),
            "states": self.states.to_dict(orient="records"),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class PathChains(ChainSettings, Analysis[ChainResult]):
    """``winloss paths markov``: the chains, their absorption probabilities and removal effects."""

    def run(self, source: DealSource) -> ChainResult:
        table = self.load_for_chains(source)
        fitted = self.fit(table)
        fits = [fitted.pooled, *fitted.segments.values()]
        states = pd.concat([_state_frame(f) for f in fits], ignore_index=True)
        removal = pd.concat(
            [_removal_frame(f, fitted.action_tokens) for f in fits], ignore_index=True
        )
        start = {f.name: f.chain.win_probability(0) for f in fits}
        warnings = _fit_warnings(fitted)
        tests = micro_action_tests(fitted)
        return ChainResult(
            AnalysisInputs.of(table.n_deals, flt=self.deal_filter),
            fitted.order,
            fitted.order_scores,
            fitted.prior_strength,
            fitted.bootstrap,
            start,
            states,
            removal,
            micro_actions(tests),
            tuple(warnings),
            tests,
        )


#: The store setting that holds the won/lost activities an event log was imported with (JSON).
OUTCOME_ACTIVITIES_SETTING = "event_log_outcome_activities"


def _deals_without_a_clear_lift(frame: pd.DataFrame) -> int:
    """Deals none of whose listed candidates has a lift interval wholly above zero."""
    if frame.empty:
        return 0
    clear = frame["lift_low"].astype(float) > 1e-9  # bootstrap bounds carry rounding noise
    return int((~clear.groupby(frame["deal_id"], sort=False).any()).sum())


def _fit_warnings(fitted: FittedPaths) -> list[str]:
    out = []
    seqs = fitted.table.seqs
    open_n = int(round(seqs.weight[seqs.outcome < 0].sum()))
    if open_n:
        out.append(f"{open_n} open deals contribute their transitions but no outcome (censored)")
    if fitted.bootstrap and fitted.bootstrap < 100:
        out.append(f"only {fitted.bootstrap} bootstrap replicates: intervals are rough")
    for name, seg in fitted.segments.items():
        if seg.n_won + seg.n_lost < 30:
            out.append(
                f"segment {name}: {seg.n_won + seg.n_lost} closed deals; its chain is "
                "mostly the pooled one"
            )
    return out


@dataclass(frozen=True)
class NextActionResult(AnalysisResult):
    """Candidate next actions of open deals ranked by P(win) after taking them."""

    inputs: AnalysisInputs
    order: int
    by: str | None
    prior_strength: float
    candidates: pd.DataFrame
    micro_actions: pd.DataFrame
    caveat: str = CAVEAT
    warnings: tuple[str, ...] = field(default=())
    micro_action_tests: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=MICRO_TEST_COLUMNS)
    )
    micro_fdr: float = MICRO_FDR

    @property
    def summary(self) -> pd.DataFrame:
        return self.candidates

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs.to_dict(),
            "order": self.order,
            "by": self.by,
            "prior_strength": self.prior_strength,
            "caveat": self.caveat,
            "candidates": self.candidates.to_dict(orient="records"),
            "micro_actions": self.micro_actions.to_dict(orient="records"),
            "micro_action_fdr": self.micro_fdr,
            "micro_action_tests": self.micro_action_tests.to_dict(orient="records"),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class NextAction(ChainSettings, Analysis[NextActionResult]):
    """``winloss next-action``: for each open deal (or ``deal_ids``), the ranked next actions."""

    deal_ids: tuple[str, ...] | None = None
    top: int | None = None
    min_support: int = 5

    def run(self, source: DealSource) -> NextActionResult:
        store = as_store(source)
        wanted = (
            list(self.deal_ids)
            if self.deal_ids
            else paths_queries.open_deal_ids(store, self.deal_filter)
        )
        for deal_id in wanted:
            outcome = paths_queries.deal_exists(store, deal_id)
            if outcome is None:
                raise UsageError(
                    f"no deal {deal_id!r} in the store; list open deals with "
                    "`winloss deals --outcome open`"
                )
        table = self.load_for_chains(source)
        known: dict[str, tuple[str, tuple[str, ...]]] = {}  # deal → (group, token path)
        if isinstance(table, PathTable):
            for i, d in enumerate(table.deal_ids):
                known[str(d)] = (str(table.group[i]), table.seqs.path(i))
        else:
            paths = paths_queries.deal_token_paths(
                store,
                wanted,
                self.deal_filter,
                by=self.by,
                silent_days=self.silent_days,
                aged_days=self.aged_days,
                as_of=self.as_of,
            )
            for r in paths.itertuples(index=False):
                known[str(r.deal_id)] = (str(r.grp), tuple(str(t) for t in r.tokens))
        histories = [known[d][1] if d in known else () for d in wanted]
        fitted = self.fit(table, histories)
        # the won/lost activities an event log was read with are outcomes, not actions to take
        # (an earlier "Application Accepted" before a cancellation stays a step of the path)
        outcome_names = set(json.loads(store.get_setting(OUTCOME_ACTIVITIES_SETTING) or "[]"))
        groups = self._groups(store, wanted, {d: g for d, (g, _) in known.items()})
        rows: list[dict[str, Any]] = []
        for deal_id, history, group in zip(wanted, histories, groups, strict=True):
            fit = fitted.segments.get(group, fitted.pooled)
            rows.extend(
                _rank(
                    deal_id,
                    group,
                    history,
                    fit,
                    tuple(
                        t
                        for t in fitted.action_tokens
                        if fit.model.vocabulary[t] not in outcome_names
                    ),
                    self.min_support,
                    self.top,
                )
            )
        cols = [
            "deal_id",
            "group",
            "state",
            "p_win_now",
            "now_low",
            "now_high",
            "rank",
            "action",
            "p_win_after",
            "ci_low",
            "ci_high",
            "lift",
            "lift_low",
            "lift_high",
            "support",
            "step_probability",
            "low_support",
        ]
        frame = pd.DataFrame(rows, columns=cols)
        warnings = _fit_warnings(fitted)
        if outcome_names:
            warnings.append(
                "the event log's won/lost activities ("
                + ", ".join(map(repr, sorted(outcome_names)))
                + ") are outcomes, not offered as next actions"
            )
        flat = _deals_without_a_clear_lift(frame)
        if flat:
            n_deals = int(frame["deal_id"].nunique())
            warnings.append(
                f"for {flat:,} of {n_deals:,} deal(s) no listed action raises P(win) beyond its "
                "interval (every lift's interval reaches zero or below): there the ranking is a "
                "weak hint, not evidence that one action beats another"
            )
        tests = micro_action_tests(fitted)
        closed_ids = [d for d in wanted if paths_queries.deal_exists(store, d) != "open"]
        if closed_ids:
            warnings.append(
                f"{len(closed_ids)} deal(s) already closed ({', '.join(closed_ids[:3])})"
                "; their ranking is what the path would have suggested"
            )
        return NextActionResult(
            AnalysisInputs.of(len(wanted), flt=self.deal_filter),
            fitted.order,
            self.by,
            fitted.prior_strength,
            frame,
            micro_actions(tests),
            CAVEAT,
            tuple(warnings),
            tests,
        )

    def _groups(self, store: Any, wanted: list[str], known: dict[str, str]) -> list[str]:
        if self.by is None:
            return ["all"] * len(wanted)
        missing = [d for d in wanted if d not in known]
        extra: dict[str, str] = {}
        if missing:
            frame = store.deals()
            frame = frame[frame["deal_id"].isin(missing)]
            extra = {
                str(r.deal_id): str(getattr(r, self.by))
                if pd.notna(getattr(r, self.by))
                else "(blank)"
                for r in frame.itertuples(index=False)
            }
        return [known[d] if d in known else extra.get(d, "(blank)") for d in wanted]


def _rank(
    deal_id: str,
    group: str,
    history: tuple[str, ...],
    fit: ChainFit,
    actions: tuple[int, ...],
    min_support: int,
    top: int | None,
) -> list[dict[str, Any]]:
    model, chain = fit.model, fit.chain
    state = model.state_code(history)
    i = chain.index(state)
    lo, hi = fit.win_interval
    step = chain.probs[i]
    out: list[dict[str, Any]] = []
    for tok in actions:
        if step[tok] <= 0:
            continue
        nxt = chain.index(model.next_state(state, tok))
        # the lift's own bootstrap interval: P(win) after minus P(win) now, per replicate
        lift_lo, lift_hi = fit.interval(fit.boot_win[:, [nxt]] - fit.boot_win[:, [i]])
        out.append(
            {
                "deal_id": deal_id,
                "group": group,
                "state": model.state_label(state),
                "p_win_now": float(chain.p_win[i]),
                "now_low": float(lo[i]),
                "now_high": float(hi[i]),
                "action": model.vocabulary[tok],
                "p_win_after": float(chain.p_win[nxt]),
                "ci_low": float(lo[nxt]),
                "ci_high": float(hi[nxt]),
                "lift": float(chain.p_win[nxt] - chain.p_win[i]),
                "lift_low": float(lift_lo[0]),
                "lift_high": float(lift_hi[0]),
                "support": fit.support(state, tok),
                "step_probability": float(step[tok]),
            }
        )
    # supported steps by P(win) after them; then thin ones, the better-evidenced first (a step
    # never taken from this state has a P(win) backed off from shorter histories only)
    out.sort(
        key=lambda r: (
            r["support"] < min_support,
            -r["support"] if r["support"] < min_support else 0,
            -r["p_win_after"],
        )
    )
    for rank, r in enumerate(out, start=1):
        r["rank"] = rank
        r["low_support"] = r["support"] < min_support
    return out[:top] if top else out
