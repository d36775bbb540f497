"""Buying-committee (multithreading) analysis: who we engaged, how we reached the decision maker.

From the stakeholders and activities tables (:mod:`winloss.store.committee_queries`) every deal gets
its engaged stakeholders, roles covered, seniority spread, champion tenure and departure, and when
and by which route its decision maker was reached (:mod:`.features`). On the closed deals:

- discovered thresholds (:mod:`winloss.analyze.stats.threshold_scan`) for the number of engaged
  stakeholders, the seniority spread, the champion's tenure and — as a landmark scan among deals
  still running at day *c* — the day the decision maker was reached;
- role coverage (each role present or not), the champion leaving mid-deal;
- the win rate of each route to the decision maker per segment and per segment × size band, and
  the best route of each;

every candidate cut, role, route and departure is one hypothesis of a single Benjamini–Hochberg
family. Open deals are flagged where a significant finding says their committee loses, with the
best route of similar deals as the suggestion.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from winloss.analyze.base import AnalysisInputs
from winloss.analyze.committee.features import add_routes, size_bands
from winloss.analyze.committee.result import (
    BestRoute,
    CommitteeFinding,
    CommitteeMap,
    CommitteeResult,
    RateEvidence,
)
from winloss.analyze.stats.exact_tests import (
    benjamini_hochberg,
    fisher_exact_two_sided,
    wilson_interval,
)
from winloss.analyze.stats.stratified import mantel_haenszel
from winloss.analyze.stats.threshold_scan import CutScan, scan_cuts
from winloss.errors import InsufficientDataError, UsageError
from winloss.store import committee_queries as q

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore

ROLE_FLAGS = {
    "has_champion": "a champion",
    "has_decision_maker": "the decision maker",
    "has_influencer": "an influencer",
    "has_user": "a user",
    "has_blocker": "a blocker",
}


def rate(wins: float, n: float) -> RateEvidence:
    low, high = wilson_interval(wins, n)
    return RateEvidence(
        int(n), int(wins), float(wins / n) if n else float("nan"), float(low), float(high)
    )


@dataclass
class _Hypothesis:
    key: str
    p_values: np.ndarray  # the candidates this question tested
    pick: int  # index of the reported candidate
    statement: str
    condition: str
    threshold: float | None
    group: RateEvidence
    rest: RateEvidence
    adjusted_odds_ratio: float | None = None


class CommitteeOptions(TypedDict, total=False):
    """Keyword settings of :class:`CommitteeAnalysis`."""

    deal_id: str | None
    alpha: float
    min_support: int
    as_of: dt.date | None


@dataclass(frozen=True)
class CommitteeAnalysis:
    """Settings of the committee analysis (fields map one to one onto ``winloss committee``).

    Parameters
    ----------
    deal_id
        Also build this deal's committee map.
    alpha
        False-discovery rate of the findings.
    min_support
        Closed deals needed on each side of a threshold, and per route for a best route.
    as_of
        The date open deals are judged at (default: the latest date in the data).
    """

    deal_id: str | None = None
    alpha: float = 0.05
    min_support: int = 20
    as_of: dt.date | None = None

    def run(self, store: DuckDBStore) -> CommitteeResult:
        if not 0 < self.alpha < 1:
            raise UsageError("--alpha must be between 0 and 1, e.g. 0.05")
        if store.count("stakeholders") == 0:
            raise InsufficientDataError(
                "the store has no stakeholders: import the buying committees with `winloss "
                "import stakeholders FILE` (one row per deal and contact, with role)"
            )
        as_of = self.as_of or q.data_as_of(store) or dt.date.today()
        warnings = _orphan_warnings(store)
        features = add_routes(q.committee_features(store, as_of))
        features["size_band"] = size_bands(features)
        closed_all = features[features["outcome"].isin(["won", "lost"])]
        # a closed deal without a single stakeholder row is a deal whose committee is unknown,
        # not one with nobody engaged: it would count as "no decision maker" and mix two groups
        unlisted = int((closed_all["listed_stakeholders"] == 0).sum())
        closed = closed_all[closed_all["listed_stakeholders"] > 0].reset_index(drop=True)
        if unlisted:
            warnings.append(
                f"{unlisted:,} of {len(closed_all):,} closed deals have no stakeholder rows: "
                "their buying committee is unknown, so they are left out (not counted as deals "
                "with nobody engaged); import their contacts to include them"
            )
        listed, engaged = (
            int(closed["listed_stakeholders"].sum()),
            int(closed["engaged_stakeholders"].sum()),
        )
        if listed and not engaged:
            raise InsufficientDataError(
                f"none of the {listed:,} stakeholders of the closed deals has an engaged date "
                "(engaged_at) or an activity naming them (contact_id): the store cannot tell who "
                "was engaged, and every deal would read as 'nobody engaged'. Import the contacts "
                "with the date each was engaged (map it with --column engaged_at=COLUMN), or "
                "activities with a contact_id"
            )
        if listed and engaged < listed / 2:
            warnings.append(
                f"{listed - engaged:,} of {listed:,} stakeholders of the closed deals have neither "
                "an engaged date (engaged_at) nor an activity naming them: they count as not "
                "engaged; if they were, import their engaged dates or activities"
            )
        too_few = len(closed) < 2 * self.min_support
        if too_few and not self.deal_id:
            raise InsufficientDataError(
                f"{len(closed)} closed deals: the committee analysis needs at least "
                f"{2 * self.min_support} (or lower --min-support)"
            )
        if too_few:
            # one deal's committee map needs no statistics: shown, without findings to flag it by
            warnings.append(
                f"{len(closed)} closed deals with stakeholders: too few to test what wins "
                f"(at least {2 * self.min_support} are needed, or lower --min-support); the map "
                "shows the deal's committee without findings"
            )
        won = (closed["outcome"] == "won").to_numpy()
        hyps = [] if too_few else self._questions(closed, won)
        routes, route_p = _route_table(closed, won)
        sizes = [h.p_values.size for h in hyps]
        all_p = np.concatenate([h.p_values for h in hyps] + [route_p])
        q_all = benjamini_hochberg(all_p)
        findings: list[CommitteeFinding] = []
        start = 0
        for h, size in zip(hyps, sizes, strict=True):
            qv = float(q_all[start + h.pick])
            if h.adjusted_odds_ratio is not None and np.isfinite(h.adjusted_odds_ratio):
                direction = "win" if h.adjusted_odds_ratio > 1 else "loss"
            else:
                direction = "win" if h.group.win_rate > h.rest.win_rate else "loss"
            findings.append(
                CommitteeFinding(
                    h.key,
                    h.statement,
                    h.condition,
                    h.threshold,
                    h.group,
                    h.rest,
                    float(h.p_values[h.pick]),
                    qv,
                    qv <= self.alpha,
                    direction,
                    size,
                    h.adjusted_odds_ratio,
                )
            )
            start += size
        routes["q_value"] = q_all[start:]
        best = _best_routes(routes, self.alpha, max(5, self.min_support // 2))
        risks = _risks(features, findings, best, as_of)
        inactive = [f.statement for f in findings if not f.significant]
        if inactive:
            warnings.append(
                f"not significant at q ≤ {self.alpha} (no open-deal flag from them): "
                + "; ".join(inactive)
            )
        disagree = dm_disagreement(closed)
        if disagree:
            warnings.append(disagree)
        derived = int((features["dm_route_source"] == "derived").sum())
        if derived:
            warnings.append(
                f"{derived} decision makers had no recorded route (reached_via): "
                "derived from introduced_by and the engagement timeline"
            )
        return CommitteeResult(
            inputs=AnalysisInputs.of(len(closed)),
            as_of=as_of.isoformat(),
            deals=features,
            by_engaged=_by_engaged(closed, won),
            findings=tuple(findings),
            routes=routes,
            best_routes=tuple(best),
            risks=risks,
            hypotheses_tested=int(all_p.size),
            alpha=self.alpha,
            committee_map=_map(store, features, risks, self.deal_id) if self.deal_id else None,
            warnings=tuple(warnings),
        )

    # -- the questions ---------------------------------------------------------------------------
    def _questions(self, closed: pd.DataFrame, won: np.ndarray) -> list[_Hypothesis]:
        out: list[_Hypothesis] = []
        engaged = closed["engaged_stakeholders"].to_numpy(dtype=float)
        scan = scan_cuts(engaged, won, min_support=self.min_support)
        if scan.found:
            c = int(scan.cut)
            out.append(
                _from_scan(
                    scan,
                    "engaged_stakeholders",
                    f"fewer than {c + 1} engaged stakeholders",
                    f"engaged_stakeholders < {c + 1}",
                )
            )
        # seniority spread only means something with two people or more
        seniority = np.where(engaged >= 2, closed["seniority_levels"].to_numpy(dtype=float), np.nan)
        scan = scan_cuts(seniority, won, min_support=self.min_support)
        if scan.found:
            c = int(scan.cut)
            out.append(
                _from_scan(
                    scan,
                    "seniority_levels",
                    f"engaged people from at most {c} seniority level"
                    f"{'s' if c != 1 else ''} (deals with 2 or more engaged)",
                    f"seniority_levels <= {c}",
                )
            )
        # roles travel with the number of people: compared within equal numbers of engaged
        # (and the other roles, which take the seats the decision maker did not, also within
        # deals with or without a decision maker)
        strata = np.minimum(engaged, 5).astype(np.int64)
        has_dm = closed["has_decision_maker"].to_numpy(dtype=bool)
        for flag, words in ROLE_FLAGS.items():
            has = closed[flag].to_numpy(dtype=bool)
            if has.all() or not has.any():
                continue
            within = (
                strata if flag in ("has_decision_maker", "has_champion") else strata * 2 + has_dm
            )
            out.append(_binary(has, won, flag, f"{words} engaged", f"{flag} = true", within))
        tenure = pd.to_numeric(closed["champion_tenure_days"], errors="coerce").to_numpy(float)
        scan = scan_cuts(tenure, won, min_support=self.min_support)
        if scan.found:
            c = int(scan.cut)
            out.append(
                _from_scan(
                    scan,
                    "champion_tenure_days",
                    f"champion hired at most {c} days before the deal started",
                    f"champion_tenure_days <= {c}",
                )
            )
        with_champion = closed["has_champion"].to_numpy(dtype=bool)
        left = closed["champion_left"].fillna(False).to_numpy(dtype=bool)
        if left[with_champion].any() and not left[with_champion].all():
            out.append(
                _binary(
                    left[with_champion],
                    won[with_champion],
                    "champion_left",
                    "champion left the customer mid-deal",
                    "champion_left = true",
                    strata[with_champion],
                )
            )
        days = pd.to_numeric(closed["days_to_dm"], errors="coerce").to_numpy(float)
        cycle = pd.to_numeric(closed["cycle_days"], errors="coerce").to_numpy(float)
        scan = scan_cuts(days, won, min_support=self.min_support, eligible=cycle)
        if scan.found:
            c = int(scan.cut)
            out.append(
                _from_scan(
                    scan,
                    "days_to_dm",
                    f"decision maker reached within {c} days of the deal's start "
                    f"(deals still running at day {c})",
                    f"days_to_dm <= {c}",
                )
            )
        return out


def committee_map(store: DuckDBStore, result: CommitteeResult, deal_id: str) -> CommitteeMap:
    """The committee map of one deal from an existing result (no new analysis)."""
    return _map(store, result.deals, result.risks, deal_id)


def _map(
    store: DuckDBStore, features: pd.DataFrame, risks: pd.DataFrame, deal_id: str
) -> CommitteeMap:
    if not q.deal_exists(store, deal_id):
        raise UsageError(f"no deal {deal_id!r} in the store; list deals with `winloss deals`")
    row = features[features["deal_id"] == deal_id].iloc[0]
    deal = {
        k: row[k]
        for k in (
            "outcome",
            "segment",
            "amount",
            "created_at",
            "closed_at",
            "engaged_stakeholders",
            "dm_route",
            "dm_route_source",
            "days_to_dm",
            "champion_left",
            "size_band",
        )
    }
    risk = risks[risks["deal_id"] == deal_id]
    flags = tuple(f for f in str(risk["flags"].iat[0]).split(", ") if f) if len(risk) else ()
    reasons = tuple(r for r in str(risk["reasons"].iat[0]).split("; ") if r) if len(risk) else ()
    return CommitteeMap(
        deal_id,
        deal,
        q.committee_people(store, deal_id),
        q.committee_activities(store, deal_id),
        flags,
        reasons,
    )


def _from_scan(scan: CutScan, key: str, statement: str, condition: str) -> _Hypothesis:
    i = scan.chosen
    return _Hypothesis(
        key,
        scan.p_values,
        i,
        statement,
        condition,
        float(scan.cuts[i]),
        rate(scan.wins_in[i], scan.n_in[i]),
        rate(scan.wins_out[i], scan.n_out[i]),
    )


def _binary(
    mask: np.ndarray, won: np.ndarray, key: str, statement: str, condition: str, strata: np.ndarray
) -> _Hypothesis:
    """A yes/no fact: raw win rates, the Mantel–Haenszel odds ratio and CMH p-value within
    ``strata`` (the number of engaged people)."""
    n_in, w_in = float(mask.sum()), float((mask & won).sum())
    ratio, p = mantel_haenszel(mask, won, strata)
    return _Hypothesis(
        key,
        np.array([p]),
        0,
        statement,
        condition,
        None,
        rate(w_in, n_in),
        rate(won.sum() - w_in, won.size - n_in),
        ratio,
    )


def _by_engaged(closed: pd.DataFrame, won: np.ndarray) -> pd.DataFrame:
    count = closed["engaged_stakeholders"].clip(upper=5).to_numpy()
    rows = []
    for k in sorted(set(count.tolist())):
        m = count == k
        r = rate(float(won[m].sum()), float(m.sum()))
        rows.append({"engaged_stakeholders": f"{k}+" if k == 5 else str(k), **r.__dict__})
    return pd.DataFrame(rows)


def _route_table(closed: pd.DataFrame, won: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Win rate of every route per segment (size band ``all``) and per segment × size band; each
    route tested against the other routes of its stratum."""
    has = closed["dm_route"].notna().to_numpy()
    frame = closed.loc[has, ["segment", "size_band", "dm_route"]].copy()
    frame["segment"] = frame["segment"].fillna("(no segment)")
    frame["size_band"] = frame["size_band"].fillna("(no amount)")
    frame["won"] = won[has]
    rows = []
    strata = [("all", frame.assign(size_band="all"))] + [("band", frame)]
    for _, data in strata:
        grouped = data.groupby(["segment", "size_band", "dm_route"])["won"].agg(["size", "sum"])
        totals = data.groupby(["segment", "size_band"])["won"].agg(["size", "sum"])
        for (seg, band, route), (n, w) in grouped.iterrows():
            tn, tw = totals.loc[(seg, band)]
            rows.append(
                {
                    "segment": seg,
                    "size_band": band,
                    "route": route,
                    "n": int(n),
                    "wins": int(w),
                    "stratum_n": int(tn),
                    "stratum_wins": int(tw),
                }
            )
    table = pd.DataFrame(
        rows, columns=["segment", "size_band", "route", "n", "wins", "stratum_n", "stratum_wins"]
    )
    if table.empty:
        return table.assign(win_rate=[], ci_low=[], ci_high=[], p_value=[]), np.zeros(0)
    low, high = wilson_interval(table["wins"], table["n"])
    table["win_rate"] = table["wins"] / table["n"]
    table["ci_low"], table["ci_high"] = low, high
    testable = (table["n"] < table["stratum_n"]).to_numpy()
    p = np.ones(len(table))
    if testable.any():
        t = table[testable]
        p[testable] = fisher_exact_two_sided(t["wins"], t["n"], t["stratum_wins"], t["stratum_n"])
    table["p_value"] = p
    return table, p


def _best_routes(routes: pd.DataFrame, alpha: float, min_n: int) -> list[BestRoute]:
    best: list[BestRoute] = []
    if routes.empty:
        return best
    for (seg, band), group in routes.groupby(["segment", "size_band"], sort=True):
        ok = group[group["n"] >= min_n].sort_values(["win_rate", "n"], ascending=False)
        if len(ok) < 2:
            continue
        top, second = ok.iloc[0], ok.iloc[1]
        best.append(
            BestRoute(
                str(seg),
                str(band),
                str(top["route"]),
                rate(top["wins"], top["n"]),
                str(second["route"]),
                float(second["win_rate"]),
                float(top["q_value"]),
                bool(
                    top["q_value"] <= alpha
                    and top["win_rate"] > top["stratum_wins"] / top["stratum_n"]
                ),
            )
        )
    return best


def dm_disagreement(closed: pd.DataFrame) -> str | None:
    """Where the captured "decision maker engaged" (a SPICED answer on the deal) and the
    stakeholder list (an engaged decision maker or economic buyer) disagree on closed deals that
    have both: the findings on the one and this analysis on the other then count different
    deals, and the reader must know why the two figures differ."""
    if "captured_dm_engaged" not in closed.columns:
        return None
    both = closed[closed["captured_dm_engaged"].notna() & (closed["listed_stakeholders"] > 0)]
    if both.empty:
        return None
    said = both["captured_dm_engaged"].astype(bool).to_numpy()
    listed = both["has_decision_maker"].astype(bool).to_numpy()
    yes_no, no_yes = int((said & ~listed).sum()), int((~said & listed).sum())
    if not yes_no and not no_yes:
        return None
    return (
        f"decision maker: the captured 'decision maker engaged' and the stakeholder list disagree "
        f"on {yes_no + no_yes:,} of {len(both):,} closed deals that have both ({yes_no:,} "
        f"captured as engaged with no engaged decision maker listed, {no_yes:,} the reverse): "
        "findings on decision_maker_engaged count the capture, this analysis the stakeholder "
        "list; reconcile the two in the CRM"
    )


def _orphan_warnings(store: DuckDBStore) -> list[str]:
    out: list[str] = []
    for table, (count, keys) in q.orphan_rows(store).items():
        if count:
            out.append(
                f"{count} {table} row(s) reference deals that are not in the store and "
                f"were left out: {', '.join(keys)}{' …' if count > len(keys) else ''}; "
                "import those deals or fix their deal_id"
            )
    return out


def _pct(r: RateEvidence) -> str:
    return f"{r.win_rate:.0%} ({r.ci_low:.0%}–{r.ci_high:.0%}, n = {r.n})"


def _risks(
    features: pd.DataFrame, findings: list[CommitteeFinding], best: list[BestRoute], as_of: dt.date
) -> pd.DataFrame:
    """Flags of every open deal where a significant finding says its committee loses."""
    open_deals = features[features["outcome"] == "open"].copy()
    age = (pd.Timestamp(as_of) - pd.to_datetime(open_deals["created_at"])).dt.days
    by_key = {f.key: f for f in findings if f.significant}
    flags: list[list[str]] = [[] for _ in range(len(open_deals))]
    reasons: list[list[str]] = [[] for _ in range(len(open_deals))]

    def flag(mask: np.ndarray, name: str, reason: str) -> None:
        for i in np.flatnonzero(mask):
            flags[i].append(name)
            reasons[i].append(reason)

    def evidence(f: CommitteeFinding, group: bool = True) -> str:
        a, b = (f.group, f.rest) if group else (f.rest, f.group)
        return f"closed deals like this won {_pct(a)} vs {_pct(b)}"

    f = by_key.get("engaged_stakeholders")
    if f is not None and f.direction == "loss" and f.threshold is not None:
        flag(
            open_deals["engaged_stakeholders"].to_numpy() <= f.threshold,
            "single-threaded",
            f"{f.statement}: {evidence(f)}",
        )
    f = by_key.get("has_decision_maker")
    if f is not None and f.direction == "win":
        flag(
            ~open_deals["has_decision_maker"].to_numpy(dtype=bool),
            "no decision maker",
            f"no decision maker engaged: {evidence(f, group=False)}",
        )
    f = by_key.get("champion_left")
    if f is not None and f.direction == "loss":
        flag(
            open_deals["champion_left"].fillna(False).to_numpy(dtype=bool),
            "champion gone",
            f"the champion left the customer: {evidence(f)}",
        )
    f = by_key.get("champion_tenure_days")
    if f is not None and f.threshold is not None:
        tenure = pd.to_numeric(open_deals["champion_tenure_days"], errors="coerce").to_numpy(float)
        if f.direction == "loss":  # where new champions win more, being new is no risk
            flag(tenure <= f.threshold, "champion new", f"{f.statement}: {evidence(f)}")
    f = by_key.get("days_to_dm")
    if f is not None and f.direction == "win" and f.threshold is not None:
        days = pd.to_numeric(open_deals["days_to_dm"], errors="coerce").to_numpy(float)
        late = np.where(np.isnan(days), age.to_numpy() > f.threshold, days > f.threshold)
        flag(
            late,
            "decision maker late",
            f"decision maker not reached within {int(f.threshold)} days: "
            f"{evidence(f, group=False)}",
        )
    suggestions = [
        _suggest(best, seg, band)
        for seg, band in zip(open_deals["segment"], open_deals["size_band"], strict=True)
    ]
    needs_route = [
        any(x in ("no decision maker", "decision maker late", "single-threaded") for x in fl)
        for fl in flags
    ]
    open_deals["age_days"] = age.to_numpy()
    open_deals["flags"] = [", ".join(fl) for fl in flags]
    open_deals["reasons"] = ["; ".join(r) for r in reasons]
    open_deals["suggested_route"] = [
        s[0] if need else None for s, need in zip(suggestions, needs_route, strict=True)
    ]
    open_deals["suggestion_evidence"] = [
        (
            s[1]
            if s[0] is not None
            else "no route to suggest: fewer than two routes to the decision maker have enough "
            "closed deals in this segment to compare"
        )
        if need
        else None
        for s, need in zip(suggestions, needs_route, strict=True)
    ]
    open_deals["risk_count"] = [len(fl) for fl in flags]
    cols = [
        "deal_id",
        "account_id",
        "segment",
        "size_band",
        "amount",
        "age_days",
        "engaged_stakeholders",
        "has_decision_maker",
        "dm_route",
        "risk_count",
        "flags",
        "reasons",
        "suggested_route",
        "suggestion_evidence",
    ]
    return (
        open_deals[cols]
        .sort_values(["risk_count", "amount"], ascending=False)
        .reset_index(drop=True)
    )


def _suggest(best: list[BestRoute], segment: Any, band: Any) -> tuple[str | None, str | None]:
    """The best route of the deal's segment × size band, else of its segment."""
    seg = "(no segment)" if segment is None or pd.isna(segment) else str(segment)
    for b_band in ((str(band) if band is not None and not pd.isna(band) else None), "all"):
        if b_band is None:
            continue
        for b in best:
            if b.segment == seg and b.size_band == b_band:
                where = f"{seg}, {b_band} deals" if b_band != "all" else f"{seg} deals"
                sig = "" if b.significant else "; not significant against the other routes"
                return b.route, (
                    f"{where}: via {b.route} won {_pct(b.evidence)}, next best "
                    f"{b.runner_up} {b.runner_up_win_rate:.0%}{sig}"
                )
    return None, None
