"""Interview sampling planner: which recently closed deals to debrief with the buyer.

Candidates are deals closed in the last ``window_days`` without a buyer interview. Each gets
points, documented here and shown as its reasons:

- **uncertain** — binary entropy H(p) in bits (0..1) of the deal's win probability ``p`` before the
  close: the latest stored model score (``winloss score --save``) or, without one, the win rate of
  its segment among closed deals. A deal the model could not call teaches the most.
- **surprise** — 1 point when the outcome went against ``p`` by more than 0.25 (won at p < 0.25,
  lost at p > 0.75).
- **disagreement** — 1 point when the rep's captured reason differs from the CRM's reason field,
  0.5 when the rep's pain differs from the CRM's.
- **few interviews** — 1 / (1 + buyer interviews in the deal's segment, done or already picked).
- **balance** — picked greedily (ties: the most recently closed first): 0.5 points while the deal's outcome is the rarer one among
  existing interviews plus those already picked, so the list stays balanced wins/losses.

The points count the deals picked above as if interviewed (so the list spreads over segments and
outcomes), but a reason says the two apart: interviews done (stored buyer captures) and deals
already planned above in this list, never one sum called interviews.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from winloss.analyze.base import Analysis, AnalysisInputs, AnalysisResult
from winloss.model.vocabulary import normalise_token
from winloss.store import capture_queries

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore

COLUMNS = [
    "rank",
    "deal_id",
    "account_name",
    "owner",
    "outcome",
    "segment",
    "closed_at",
    "p",
    "p_source",
    "score",
    "reasons",
]


def entropy(p: float) -> float:
    """Binary entropy in bits (0 at p = 0 or 1, 1 at p = 0.5)."""
    if not 0 < p < 1:
        return 0.0
    return float(-(p * np.log2(p) + (1 - p) * np.log2(1 - p)))


def _reverse(text: str) -> str:
    """A key sorting ``text`` in reverse order under ``max`` (ties go to the smallest id)."""
    return "".join(chr(0x10FFFF - ord(c)) for c in text)


def _differs(a: Any, b: Any) -> bool:
    return not pd.isna(a) and not pd.isna(b) and normalise_token(str(a)) != normalise_token(str(b))


def _interviews_text(done: int, planned: int, where: str) -> str:
    """The few-interviews reason: interviews done and deals planned above, said apart."""
    text = f"{done} buyer interview{'s' if done != 1 else ''} done {where}"
    return text + (f", {planned} already planned above" if planned else "")


def _balance_text(done: dict[str, int], planned: dict[str, int]) -> str:
    """The balance reason: won and lost interviews done, and those planned above if any."""
    text = f"balances won and lost interviews ({done['won']} won and {done['lost']} lost done"
    if planned["won"] or planned["lost"]:
        text += f", {planned['won']} won and {planned['lost']} lost already planned above"
    return text + ")"


@dataclass(frozen=True)
class InterviewPlanResult(AnalysisResult):
    """The ranked debrief list (``deals``: rank, deal, p and where it came from, score, reasons)."""

    inputs: AnalysisInputs
    deals: pd.DataFrame
    candidates: int
    warnings: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> pd.DataFrame:
        return self.deals

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs.to_dict(),
            "candidates": self.candidates,
            "deals": self.deals.to_dict(orient="records"),
            "warnings": list(self.warnings),
        }


class InterviewPlanOptions(TypedDict, total=False):
    """Keyword settings of :class:`InterviewPlanner`."""

    window_days: int
    limit: int
    today: dt.date | None


@dataclass(frozen=True)
class InterviewPlanner(Analysis[InterviewPlanResult]):
    """Settings: deals closed within ``window_days`` of ``today``; the top ``limit``."""

    window_days: int = 90
    limit: int = 20
    today: dt.date | None = None

    def run(self, source: DuckDBStore) -> InterviewPlanResult:  # type: ignore[override]
        today = self.today or dt.date.today()
        since = today - dt.timedelta(days=self.window_days)
        cand = capture_queries.interview_candidates(source, since)
        per_segment = capture_queries.interviews_per_segment(source)
        interviews = dict(zip(per_segment["segment"], per_segment["interviews"], strict=True))
        closed = source.closed_deals()
        seg_rate = (
            closed.assign(_w=closed["outcome"] == "won")
            .groupby(closed["segment"].fillna("(none)"))["_w"]
            .mean()
            .to_dict()
        )
        overall = float((closed["outcome"] == "won").mean()) if len(closed) else 0.5
        existing = {"won": 0, "lost": 0}
        existing.update(capture_queries.buyer_interviews_by_outcome(source))
        todo = cand[~cand["has_buyer"]].copy()
        # without any segment the "segment" is the whole store: say so in the reasons
        segmented = bool(closed["segment"].notna().any()) if len(closed) else False
        rate_source = "segment win rate" if segmented else "overall win rate"
        rows: list[dict[str, Any]] = []
        for rec in todo.to_dict(orient="records"):
            seg = rec["segment"] if not pd.isna(rec["segment"]) else "(none)"
            if not pd.isna(rec["probability"]):
                p, p_source = float(rec["probability"]), "model score"
            else:
                p, p_source = float(seg_rate.get(seg, overall)), rate_source
            points: list[tuple[float, str]] = []
            h = entropy(p)
            if h > 0:
                points.append((h, f"uncertain (p = {p:.2f}, {p_source})"))
            won = rec["outcome"] == "won"
            if (won and p < 0.25) or (not won and p > 0.75):
                points.append((1.0, f"surprise: {rec['outcome']} at p = {p:.2f}"))
            if _differs(rec["rep_reason"], rec["crm_reason"]):
                points.append(
                    (1.0, f"rep reason '{rec['rep_reason']}' ≠ CRM '{rec['crm_reason']}'")
                )
            if _differs(rec["rep_pain"], rec["crm_pain"]):
                points.append((0.5, f"rep pain '{rec['rep_pain']}' ≠ CRM '{rec['crm_pain']}'"))
            rows.append(
                {
                    **rec,
                    "seg": seg,
                    "p": p,
                    "p_source": p_source,
                    "base": sum(x for x, _ in points),
                    "points": points,
                }
            )
        picked: list[dict[str, Any]] = []
        planned = {"won": 0, "lost": 0}  # picked above: points count them beside those done
        done_per_seg = {str(k): int(v) for k, v in interviews.items()}
        per_seg = dict(done_per_seg)  # done + picked above
        pool = rows
        while pool and len(picked) < self.limit:
            counts = {o: existing[o] + planned[o] for o in ("won", "lost")}
            minority = (
                "won"
                if counts["won"] < counts["lost"]
                else ("lost" if counts["lost"] < counts["won"] else None)
            )
            best: dict[str, Any] | None = None
            best_key: tuple[float, str, str] = (-1.0, "", "")
            for r in pool:
                k = per_seg.get(r["seg"], 0)
                s = r["base"] + 1.0 / (1 + k) + (0.5 if r["outcome"] == minority else 0.0)
                # ties: the most recently closed first (the buyer remembers), then deal id
                key = (round(s, 9), str(r["closed_at"]), _reverse(str(r["deal_id"])))
                if best is None or key > best_key:
                    best, best_key = r, key
            assert best is not None
            best_score = best_key[0]
            k = per_seg.get(best["seg"], 0)
            done = done_per_seg.get(best["seg"], 0)
            best["points"] = [
                *best["points"],
                (
                    1.0 / (1 + k),
                    _interviews_text(
                        done,
                        k - done,
                        f"in segment {best['seg']}" if segmented else "across all deals",
                    ),
                ),
            ]
            per_seg[best["seg"]] = k + 1
            reasons = [t for _, t in sorted(best["points"], key=lambda x: -x[0])]
            if best["outcome"] == minority:
                reasons.append(_balance_text(existing, planned))
            picked.append(
                {
                    "rank": len(picked) + 1,
                    **{c: best.get(c) for c in COLUMNS[1:8]},
                    "p": best["p"],
                    "p_source": best["p_source"],
                    "score": round(best_score, 4),
                    "reasons": "; ".join(reasons),
                }
            )
            planned[best["outcome"]] += 1
            pool = [r for r in pool if r is not best]
        warnings: list[str] = []
        scores = [float(p["score"]) for p in picked]
        if any(b > a for a, b in zip(scores, scores[1:], strict=False)):
            # a trial read ranks against the score column as 499 inversions in 1,000 rows
            warnings.append(
                "ranks are the order of picking: score is a deal's points when it was picked; "
                "each pick lowers the points of the deals left in its segment and can move "
                "the win/loss balance bonus, so a later pick may score higher"
            )
        if todo.empty:
            note = f"no deal closed since {since} lacks a buyer interview"
            last = pd.to_datetime(closed["closed_at"]).max() if len(closed) else pd.NaT
            if pd.notna(last) and last.date() < since:
                # old data planned as of today finds nothing: say as of when it would
                note += (
                    f"; the store's latest close is {last.date()}: plan as of then with "
                    f"--today {last.date()} (or widen --window-days)"
                )
            warnings.append(note)
        return InterviewPlanResult(
            AnalysisInputs.of(len(todo), period=f"{since}..{today}"),
            pd.DataFrame(picked, columns=COLUMNS),
            len(todo),
            tuple(warnings),
        )
