"""Which deal fields become candidate attributes of the concentration search, and why not.

From the workspace's field catalog: every field marked ``analyse`` (loss_reason and win_reason
never are), categorical, boolean or numeric. Raw dates are left out — their meaning enters through
the derived day counts (days_to_critical_event, champion_tenure_days, cycle_days). Within a period,
a field is also left out when it has no values, only one value, or (known only after the outcome)
when it merely restates the outcome, like a final stage "Closed Won".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from winloss.analyze.deal_table import (
    CATEGORICAL_DTYPES,
    DATE_DTYPES,
    NUMERIC_DTYPES,
    CategoricalColumn,
    DealTable,
    NumericColumn,
)
from winloss.errors import UsageError
from winloss.model.schema import ONE_OUTCOME_FIELDS

if TYPE_CHECKING:
    from winloss.model.deals import DealField

#: Share of deals in single-outcome values above which a post-outcome field restates the outcome.
OUTCOME_PROXY_SHARE = 0.99


def catalog_candidates(
    catalog: list[DealField],
    *,
    only: tuple[str, ...] | None = None,
    exclude: tuple[str, ...] = (),
) -> tuple[list[DealField], dict[str, str]]:
    """Candidate fields from the catalog, and the reason each other analysable field is out."""
    names = {f.name for f in catalog}
    unknown = [n for n in (*(only or ()), *exclude) if n not in names]
    if unknown:
        raise UsageError(
            f"unknown field(s) {', '.join(unknown)}; `winloss schema` and "
            "`winloss info` list the fields of this store"
        )
    chosen: list[DealField] = []
    skipped: dict[str, str] = {}
    for f in catalog:
        if only is not None and f.name not in only:
            continue
        if f.name in exclude:
            skipped[f.name] = "excluded by the settings"
            continue
        if f.name in ONE_OUTCOME_FIELDS:
            if only is not None:
                skipped[f.name] = "exists for one outcome only: never a condition"
            continue
        if not f.analyse:
            if only is not None:
                skipped[f.name] = "not an analysable attribute (an id, free text or the outcome)"
            continue
        if f.dtype in DATE_DTYPES:
            skipped[f.name] = "a raw date: analysed through derived day counts instead"
            continue
        if f.dtype not in CATEGORICAL_DTYPES | NUMERIC_DTYPES:
            skipped[f.name] = f"type {f.dtype} is not analysed"
            continue
        chosen.append(f)
    return chosen, skipped


def informative_attributes(
    table: DealTable, fields: list[DealField]
) -> tuple[list[str], dict[str, str]]:
    """Fields with information in this period; the others with the reason."""
    names: list[str] = []
    skipped: dict[str, str] = {}
    for f in fields:
        column = table.columns[f.name]
        missing = column.missing
        if missing.all():
            skipped[f.name] = "no values in this period"
            continue
        leak = _set_for_one_outcome(column, table.won)
        if leak:
            skipped[f.name] = leak
            continue
        if isinstance(column, CategoricalColumn):
            present = column.codes[~missing]
            distinct = int(np.count_nonzero(np.bincount(present)))
            if distinct == 1 and not missing.any():
                skipped[f.name] = "a single value in this period"
                continue
            if f.post_outcome and _restates_outcome(present, table.won[~missing], distinct):
                skipped[f.name] = (
                    "known only after the outcome and restates it "
                    "(every value is all wins or all losses)"
                )
                continue
        elif not missing.any() and np.nanmin(column.values) == np.nanmax(column.values):
            skipped[f.name] = "a single value in this period"
            continue
        names.append(f.name)
    return names, skipped


def _set_for_one_outcome(column: CategoricalColumn | NumericColumn, won: np.ndarray) -> str | None:
    """The reason a field is filled in at the outcome, when it is: set (non-empty, non-zero) for
    at least half of one outcome and at most 2 % of the other — the check the win model's leakage
    control applies (e.g. Maven's amount, 0 on every lost deal)."""
    from winloss.analyze.scoring.leakage import SET_SHARE, UNSET_SHARE

    won = np.asarray(won, dtype=bool)
    if not won.any() or won.all():
        return None
    if isinstance(column, NumericColumn):
        flag = ~column.missing & (np.nan_to_num(column.values) != 0)
    else:
        flag = ~column.missing
    share_won, share_lost = float(flag[won].mean()), float(flag[~won].mean())
    hi, lo = max(share_won, share_lost), min(share_won, share_lost)
    if hi >= SET_SHARE and lo <= UNSET_SHARE:
        set_for, not_for = ("won", "lost") if share_won > share_lost else ("lost", "won")
        return (
            f"set (non-empty, non-zero) for {hi:.0%} of {set_for} deals but {lo:.0%} of "
            f"{not_for} deals: filled in at the outcome, so it restates it (a leak)"
        )
    return None


def _restates_outcome(codes: np.ndarray, won: np.ndarray, levels: int) -> bool:
    if codes.size == 0:
        return False
    size = int(codes.max()) + 1
    n = np.bincount(codes, minlength=size)
    w = np.bincount(codes, weights=won, minlength=size)
    pure = (w == 0) | (w == n)
    return bool(n[pure].sum() >= OUTCOME_PROXY_SHARE * codes.size) and levels > 1
