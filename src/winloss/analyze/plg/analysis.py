"""Product-led growth: activation milestones, a product-qualified-lead score, accounts ready for a
sales touch, and the PLG motion against the sales-led one.

*Conversion* of an account with usage: a won deal created on or after the day of its first usage
event and closed within ``horizon_days`` of it. The label is *known* when the account converted or
was observed for the whole horizon; accounts still inside their horizon are the ones scored.
Labelled accounts are split by time (first event): the earlier ``1 − held_out_share`` discover the
milestone (:mod:`.milestones`) and fit the score, the later ones check both.

The score is a ridge logistic regression (the concentration engine's
:func:`~winloss.analyze.concentrations.adjusted_effects.fit_pooled_logistic`) of conversion on the
usage within the milestone's window (``log1p`` of users and events per event name, and the
milestone itself); a calibration map (:func:`~winloss.analyze.stats.calibration.choose_calibration`)
fitted on the held-out predictions is applied to the final model, refitted on every labelled
account. The held-out check reports the score's AUC on the later accounts with a one-sided
Mann-Whitney p-value, and the Brier score and calibration error of its calibrated probabilities
(each held-out account mapped by a map fitted on the other held-out half) beside the training
conversion rate's Brier score and the calibration error a calibrated score shows there by chance;
:meth:`~winloss.analyze.plg.result.ScoreModel.verdict` says what that allows. A score that does
not rank beyond chance or does not beat the conversion rate makes no account ready.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import pandas as pd
from scipy import special

from winloss.analyze.base import AnalysisInputs
from winloss.analyze.concentrations.adjusted_effects import fit_pooled_logistic
from winloss.analyze.plg.milestones import (
    Milestone,
    candidate_table,
    choose,
    describe,
    wide_counts,
)
from winloss.analyze.plg.motions import motion_comparison, prior_usage_effect
from winloss.analyze.plg.result import PLGResult, ScoreModel
from winloss.analyze.stats import calibration
from winloss.analyze.stats.exact_tests import fisher_exact_two_sided
from winloss.errors import InsufficientDataError, UsageError
from winloss.store import plg_queries as q

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore


class PLGOptions(TypedDict, total=False):
    """Keyword settings of :class:`PLGAnalysis`."""

    horizon_days: int
    windows: tuple[int, ...]
    held_out_share: float
    alpha: float
    min_support: int
    prior_usage_days: int
    as_of: dt.date | None
    seed: int


@dataclass(frozen=True)
class PLGAnalysis:
    """Settings of the PLG analysis (fields map one to one onto ``winloss plg`` options).

    Parameters
    ----------
    horizon_days
        Conversion must come within this many days of the first usage event.
    windows
        Candidate milestone windows in days after the first event.
    held_out_share
        Share of the labelled accounts (the latest by first event) kept for the held-out check.
    alpha
        False-discovery rate of the milestone candidates.
    min_support
        Accounts needed on each side of a milestone.
    prior_usage_days
        A sales-led deal counts as "used the product before" when its account had usage in this
        many days before the deal was created.
    as_of
        The date the analysis is made at (default: the latest date in the data).
    seed
        Seed of the bootstrap intervals.
    """

    horizon_days: int = 180
    windows: tuple[int, ...] = (7, 14, 21, 30)
    held_out_share: float = 0.3
    alpha: float = 0.05
    min_support: int = 15
    prior_usage_days: int = 180
    as_of: dt.date | None = None
    seed: int = 0

    def run(self, store: DuckDBStore) -> PLGResult:
        if self.horizon_days <= 0 or not self.windows or min(self.windows) <= 0:
            raise UsageError("--horizon-days and every --window must be positive numbers of days")
        if not 0 < self.held_out_share < 1:
            raise UsageError("--held-out must be between 0 and 1, e.g. 0.3")
        if store.count("usage_events") == 0:
            raise InsufficientDataError(
                "the store has no usage events: import product usage with `winloss import usage "
                "FILE` (account_id, user_id, event, occurred_at)"
            )
        as_of = self.as_of or q.data_as_of(store) or dt.date.today()
        windows = sorted({int(w) for w in self.windows})
        warnings: list[str] = []
        rows, n_orphans, ids = q.orphan_usage(store)
        if rows:
            # an account that used the product and has no deal yet is what a PLG motion is
            # about: a trial that has not converted (or not yet); it is kept, and named in case
            # its account_id was meant to match a CRM account
            warnings.append(
                f"{n_orphans} account(s) with usage ({rows} row(s)) have no deal or "
                f"subscription yet: {', '.join(ids)}{' …' if n_orphans > len(ids) else ''}; they "
                "count as trial accounts that have not converted — if an account_id should "
                "match a CRM account, fix it"
            )
        accounts = q.usage_accounts(store, self.horizon_days)
        customers = accounts["customer_at_first"].astype(bool)
        if customers.any():
            warnings.append(
                f"{int(customers.sum())} account(s) were already customers at their first usage "
                "event (a won deal closed before it): their usage is post-sale, left out of the "
                "activation analysis and the list of accounts to contact"
            )
        accounts = accounts[~customers].reset_index(drop=True)
        counts = wide_counts(q.usage_window_counts(store, windows), accounts["account_id"])
        first = pd.to_datetime(accounts["first_at"])
        converted_at = pd.to_datetime(accounts["converted_at"])
        converted = converted_at.notna().to_numpy()
        observed = (pd.Timestamp(as_of) - first).dt.total_seconds().to_numpy() / 86400
        labelled = converted | (observed >= self.horizon_days)
        order = np.argsort(first.to_numpy(), kind="mergesort")
        labelled_idx = order[labelled[order]]
        n_train = int(round(len(labelled_idx) * (1 - self.held_out_share)))
        train = np.zeros(len(accounts), dtype=bool)
        train[labelled_idx[:n_train]] = True
        held = labelled & ~train
        if n_train < 2 * self.min_support:
            raise InsufficientDataError(
                f"{int(labelled.sum())} accounts with usage have a known conversion (converted, "
                f"or observed for {self.horizon_days} days): too few to discover milestones; "
                "lower --horizon-days or --min-support"
            )

        def eligible(w: int, among: np.ndarray) -> np.ndarray:
            before = ~converted | (
                (converted_at - first).dt.total_seconds().to_numpy() / 86400 >= w
            )
            return np.asarray(among & (observed >= w) & before)

        train_counts = counts[train]
        table = candidate_table(
            train_counts, converted[train], {w: eligible(w, train)[train] for w in windows}, windows
        )
        pick = choose(table, alpha=self.alpha, min_support=self.min_support)
        milestone = self._milestone(table, pick, counts, converted, held, eligible)
        if milestone is None:
            warnings.append(
                "no activation milestone is significant on the training accounts "
                f"(q ≤ {self.alpha} with {self.min_support} accounts on each side)"
            )
        elif not milestone.holds_on_held_out:
            warnings.append(
                f"the milestone ({milestone.statement}) does not hold on the "
                "held-out accounts: treat it as a hypothesis"
            )
        window = milestone.window_days if milestone else (14 if 14 in windows else windows[0])
        score, scored = self._score(
            counts, converted, train, held, labelled, eligible(window, labelled), window, milestone
        )
        current = ~labelled & (accounts["deals_since_first"].to_numpy() == 0)
        ready_table = self._ready(
            accounts, counts, scored, current, observed, window, milestone, score
        )
        deals = q.motion_deals(store, self.prior_usage_days)
        motions = motion_comparison(deals, q.subscription_cohorts(store), as_of, seed=self.seed)
        prior, q_stat, q_p = prior_usage_effect(deals)
        return PLGResult(
            inputs=AnalysisInputs.of(int(labelled.sum())),
            as_of=as_of.isoformat(),
            horizon_days=self.horizon_days,
            accounts_with_usage=len(accounts),
            labelled_accounts=int(labelled.sum()),
            milestone=milestone,
            candidates=table,
            score=score,
            accounts=ready_table,
            motions=motions,
            prior_usage=prior,
            heterogeneity_q=q_stat,
            heterogeneity_p=q_p,
            warnings=tuple(warnings),
        )

    def _milestone(
        self,
        table: pd.DataFrame,
        pick: int,
        counts: pd.DataFrame,
        converted: np.ndarray,
        held: np.ndarray,
        eligible: object,
    ) -> Milestone | None:
        if pick < 0:
            return None
        row = table.iloc[pick]
        event, metric = str(row["event"]), str(row["metric"])
        k, w = int(row["at_least"]), int(row["window_days"])
        shell = Milestone(
            event,
            metric,
            k,
            w,
            describe(event, metric, k, w),
            (0, 0),
            (0, 0),
            0.0,
            0.0,
            (0, 0),
            (0, 0),
            1.0,
        )
        ok = eligible(w, held)  # type: ignore[operator]
        met = shell.mask(counts)
        y = converted
        h1 = (int((ok & met).sum()), int((ok & met & y).sum()))
        h0 = (int((ok & ~met).sum()), int((ok & ~met & y).sum()))
        p_held = (
            float(fisher_exact_two_sided(h1[1], h1[0], h1[1] + h0[1], h1[0] + h0[0])[0])
            if h1[0] and h0[0]
            else 1.0
        )
        return Milestone(
            event,
            metric,
            k,
            w,
            shell.statement,
            (int(row["n_met"]), int(row["converted_met"])),
            (int(row["n"] - row["n_met"]), int(row["converted"] - row["converted_met"])),
            float(row["p_value"]),
            float(row["q_value"]),
            h1,
            h0,
            p_held,
        )

    def _design(
        self, counts: pd.DataFrame, window: int, milestone: Milestone | None
    ) -> tuple[np.ndarray, list[str]]:
        cols = [c for c in counts.columns if c.endswith(f"_{window}")]
        x = np.log1p(counts[cols].to_numpy(dtype=float))
        names = [f"log1p({c})" for c in cols]
        if milestone is not None:
            x = np.hstack([x, milestone.mask(counts)[:, None].astype(float)])
            names.append("milestone")
        return x, names

    def _score(
        self,
        counts: pd.DataFrame,
        converted: np.ndarray,
        train: np.ndarray,
        held: np.ndarray,
        labelled: np.ndarray,
        eligible_w: np.ndarray,
        window: int,
        milestone: Milestone | None,
    ) -> tuple[ScoreModel | None, np.ndarray]:
        x, names = self._design(counts, window, milestone)
        mean = x[labelled].mean(axis=0)
        scale = x[labelled].std(axis=0)
        scale[scale == 0] = 1.0
        design = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
        y = converted.astype(float)
        fit_rows = train & eligible_w
        test_rows = held & eligible_w
        if fit_rows.sum() < 20 or test_rows.sum() < 10 or len(np.unique(y[fit_rows])) < 2:
            return None, np.full(len(x), np.nan)
        beta, _, _ = fit_pooled_logistic(
            design[fit_rows], np.ones(int(fit_rows.sum())), y[fit_rows], ridge=1.0
        )
        p_test = special.expit(design[test_rows] @ beta)
        y_test = y[test_rows]
        cal, _ = calibration.choose_calibration(p_test, y_test, seed=self.seed)
        # the map is fitted on these accounts: each is scored by a map fitted on the other half
        p_held = calibration.cross_fitted(p_test, y_test, cal.method, seed=self.seed)
        metrics = calibration.score_predictions(y_test, p_held)
        train_rate = float(y[fit_rows].mean())
        every = labelled & eligible_w
        beta_all, _, _ = fit_pooled_logistic(
            design[every], np.ones(int(every.sum())), y[every], ridge=1.0
        )
        scored = cal.apply(special.expit(design @ beta_all))
        model = ScoreModel(
            features=tuple(names),
            coefficients={
                n: float(b) for n, b in zip(["intercept", *names], beta_all, strict=True)
            },
            train_accounts=int(fit_rows.sum()),
            held_out_accounts=int(test_rows.sum()),
            # the score's own ranking (a map with a negative slope would reverse it)
            held_out_auc=calibration.auc(y_test, p_test),
            held_out_brier=float(metrics.brier),
            held_out_ece=float(metrics.ece),
            base_rate=float(y[every].mean()),
            calibration=cal.to_dict(),
            reliability=calibration.reliability_curve(y_test, p_held),
            held_out_p_value=calibration.auc_p_value(y_test, p_test),
            train_rate=train_rate,
            held_out_base_brier=calibration.brier(y_test, np.full(len(y_test), train_rate)),
            held_out_chance_ece=calibration.chance_ece(p_held, seed=self.seed),
        )
        return model, np.asarray(scored)

    def _ready(
        self,
        accounts: pd.DataFrame,
        counts: pd.DataFrame,
        scored: np.ndarray,
        current: np.ndarray,
        observed: np.ndarray,
        window: int,
        milestone: Milestone | None,
        score: ScoreModel | None,
    ) -> pd.DataFrame:
        """Accounts inside their horizon with no deal since their first event, scored."""
        rows = accounts[current].copy()
        sub = counts[current]
        rows["days_since_first_event"] = np.floor(observed[current]).astype(int)
        rows["active_users_in_window"] = sub.get(f"*|users_{window}", 0.0).to_numpy()
        rows["events_in_window"] = sub.get(f"*|events_{window}", 0.0).to_numpy()
        met = milestone.mask(sub) if milestone else np.zeros(len(rows), dtype=bool)
        rows["milestone_met"] = met
        rows["pql_score"] = scored[current]
        bar = (
            (milestone.train_met[1] / milestone.train_met[0])
            if milestone and milestone.train_met[0]
            else (2 * score.base_rate if score else np.inf)
        )
        # a score that does not beat chance and the conversion rate on later accounts is shown,
        # never acted on
        usable = score is not None and score.actionable
        # why it is not used, in the verdict's own terms (an evidence row said "no better than
        # chance" beside a verdict that it ranks beyond chance)
        unused = (
            ""
            if score is None or usable
            else "; not used: it does not rank later accounts beyond chance"
            if not score.ranks_beyond_chance
            else "; not used: its probabilities are no closer than the conversion rate"
        )
        rows["ready"] = met | (usable & (rows["pql_score"].fillna(0).to_numpy() >= bar))
        evidence = []
        for r, m in zip(rows.itertuples(), met, strict=True):
            parts = [
                f"{int(r.active_users_in_window)} active users and "
                f"{int(r.events_in_window)} events in the first {window} days"
            ]
            if r.days_since_first_event < window:
                parts.append(f"(only {r.days_since_first_event} days observed)")
            if milestone is not None:
                parts.append(("reached: " if m else "not reached: ") + milestone.statement)
            if score is not None and not np.isnan(r.pql_score):
                parts.append(
                    f"PQL score {r.pql_score:.0%} (base {score.base_rate:.0%}" + unused + ")"
                )
            evidence.append("; ".join(parts))
        rows["evidence"] = evidence
        cols = [
            "account_id",
            "segment",
            "first_at",
            "days_since_first_event",
            "users",
            "active_users_in_window",
            "events_in_window",
            "milestone_met",
            "pql_score",
            "ready",
            "evidence",
        ]
        return (
            rows[cols]
            .sort_values(["ready", "pql_score"], ascending=False, na_position="last")
            .reset_index(drop=True)
        )
