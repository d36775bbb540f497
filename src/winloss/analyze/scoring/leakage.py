"""Automatic leakage detection: fields that give the outcome away are excluded, with the reason.

A field marked "known before the outcome" can still be filled in at the close — a CRM that zeroes
the amount of lost deals, a "stage" that becomes *Closed Won*. Three checks catch that, each on the
closed (and, where present, open) deals:

one outcome only
    the field is set (not empty, not zero, not false) for at least :data:`SET_SHARE` of one outcome
    and for at most :data:`UNSET_SHARE` of the other;
empty while open
    the field is set for most closed deals but for (almost) no open deal: it is filled in at close;
near-perfect separation
    on its own (out-of-fold, values binned) it separates won from lost with AUC ≥ ``max_auc``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from winloss.analyze.scoring.features import Predictor
from winloss.analyze.stats.calibration import rank_auc as auc

#: "set for one outcome": at least this share of one outcome has a value …
SET_SHARE = 0.5
#: … and at most this share of the other.
UNSET_SHARE = 0.02
#: Default single-field AUC above which a field is treated as a leak.
MAX_AUC = 0.95
#: The open-deal check needs at least this many open deals.
MIN_OPEN = 20
#: Above this many closed deals the single-field AUC is measured on a random sample of this many
#: (its standard error there is below 0.002: the 0.95 threshold is not near it by chance).
AUC_SAMPLE = 200_000


@dataclass(frozen=True)
class Leak:
    """A field excluded as leaking the outcome, the check that caught it and why."""

    field: str
    check: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason, "check": self.check}


def is_set(col: pd.Series) -> np.ndarray:
    """True where a value is present and not zero / false / blank."""
    s = col
    present = s.notna().to_numpy(dtype=bool)
    if pd.api.types.is_bool_dtype(s.dtype):
        value = s.fillna(False).to_numpy(dtype=bool)
    elif pd.api.types.is_numeric_dtype(s.dtype):
        value = pd.to_numeric(s, errors="coerce").fillna(0).to_numpy() != 0
    else:
        # each distinct value is converted once (not once per row); missing is never set
        codes, uniques = pd.factorize(s.astype("object"), use_na_sentinel=True)
        nonblank = np.array([str(v).strip() != "" for v in uniques], dtype=bool)
        value = np.zeros(len(codes), dtype=bool)
        value[codes >= 0] = nonblank[codes[codes >= 0]]
    return np.asarray(present & value, dtype=bool)


def _binned(col: pd.Series, kind: str) -> np.ndarray:
    if kind == "numeric":
        v = pd.to_numeric(col, errors="coerce").astype(float)
        ranks = v.rank(method="dense")
        n_distinct = int(v.nunique())
        codes = pd.qcut(ranks, 20, labels=False, duplicates="drop") if n_distinct > 20 else ranks
        return np.asarray(codes.fillna(-1).to_numpy(dtype=float))
    text = col.astype("object").where(col.notna(), "(missing)").astype(str)
    return np.asarray(pd.factorize(text)[0], dtype=float)


def single_field_auc(col: pd.Series, kind: str, y: np.ndarray, *, seed: int = 0) -> float:
    """Out-of-fold AUC of one field on its own (2-fold target encoding of its binned values)."""
    codes = _binned(col, kind)
    rng = np.random.default_rng(seed)
    fold = rng.integers(0, 2, len(y))
    enc = np.zeros(len(y))
    for k in (0, 1):
        tr, te = fold != k, fold == k
        if tr.sum() == 0 or te.sum() == 0:
            continue
        rates = pd.Series(y[tr]).groupby(codes[tr]).agg(["sum", "count"])
        prior = y[tr].mean()
        smooth = (rates["sum"] + 10 * prior) / (rates["count"] + 10)
        enc[te] = pd.Series(codes[te]).map(smooth).fillna(prior).to_numpy()
    value = auc(y, enc)
    return float(max(value, 1 - value)) if np.isfinite(value) else float("nan")


def find_leaks(
    closed: pd.DataFrame,
    y: np.ndarray,
    predictors: tuple[Predictor, ...],
    *,
    open_deals: pd.DataFrame | None = None,
    max_auc: float = MAX_AUC,
    seed: int = 0,
) -> list[Leak]:
    """The predictors that leak the outcome, each with a plain-words reason.

    Parameters
    ----------
    closed
        Closed deals with the predictor columns.
    y
        1 for won, 0 for lost, aligned with ``closed``.
    predictors
        The candidate predictors.
    open_deals
        Open deals, for the "empty while open" check (skipped with fewer than :data:`MIN_OPEN`).
    max_auc
        Single-field AUC at or above which a field is excluded.
    """
    leaks: list[Leak] = []
    won = y == 1
    n_open = 0 if open_deals is None else len(open_deals)
    auc_rows = (
        np.sort(np.random.default_rng(seed).choice(len(y), AUC_SAMPLE, replace=False))
        if len(y) > AUC_SAMPLE
        else None
    )
    for p in predictors:
        col = closed[p.name]
        flag = is_set(col)
        share_won = float(flag[won].mean()) if won.any() else 0.0
        share_lost = float(flag[~won].mean()) if (~won).any() else 0.0
        hi, lo = max(share_won, share_lost), min(share_won, share_lost)
        if hi >= SET_SHARE and lo <= UNSET_SHARE:
            set_for, not_for = ("won", "lost") if share_won > share_lost else ("lost", "won")
            leaks.append(
                Leak(
                    p.name,
                    "one outcome only",
                    f"set (non-empty, non-zero) for {hi:.0%} of {set_for} deals but "
                    f"only {lo:.0%} of {not_for} deals: it is filled in at the outcome",
                )
            )
            continue
        if open_deals is not None and n_open >= MIN_OPEN and p.name in open_deals.columns:
            share_open = float(is_set(open_deals[p.name]).mean())
            share_closed = float(flag.mean())
            if share_closed >= SET_SHARE and share_open <= UNSET_SHARE:
                leaks.append(
                    Leak(
                        p.name,
                        "empty while open",
                        f"set for {share_closed:.0%} of closed deals but "
                        f"{share_open:.0%} of open deals: it is filled in at the close",
                    )
                )
                continue
        value = (
            single_field_auc(col, p.kind, y, seed=seed)
            if auc_rows is None
            else single_field_auc(col.iloc[auc_rows], p.kind, y[auc_rows], seed=seed)
        )
        if np.isfinite(value) and value >= max_auc:
            leaks.append(
                Leak(
                    p.name,
                    "near-perfect separation",
                    f"on its own it separates won from lost almost perfectly (AUC "
                    f"{value:.3f} ≥ {max_auc}); a field like that is recorded at or "
                    "after the close",
                )
            )
    return leaks
