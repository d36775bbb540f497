"""Per-deal committee features on top of the store's query: routes to the decision maker, size bands.

Routes (``reached_via`` of the decision maker) are normalised to :data:`ROUTES`. Where the recorded
route is blank it is derived, in this order:

1. introduced by the deal's champion (``introduced_by`` is the champion's contact id, or the
   introducer's role is champion) → ``champion``;
2. ``introduced_by`` names a customer or a partner → ``customer_introduction`` /
   ``partner_introduction``;
3. the engagement timeline (``engaged_at`` and activities): nobody engaged before the decision
   maker → ``direct`` (top-down); only the champion before → ``champion``; two or more people
   before → ``consensus``; one person who is not the champion → ``other``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: Canonical routes to the decision maker.
ROUTES = (
    "direct",
    "champion",
    "customer_introduction",
    "partner_introduction",
    "consensus",
    "other",
)

_ROUTE_WORDS: tuple[tuple[str, str], ...] = (
    ("champion", "champion"),
    ("consensus", "consensus"),
    ("thread", "consensus"),
    ("customer", "customer_introduction"),
    ("reference", "customer_introduction"),
    ("partner", "partner_introduction"),
    ("reseller", "partner_introduction"),
    ("top down", "direct"),
    ("direct", "direct"),
    ("cold", "direct"),
    ("outbound", "direct"),
)


def normalise_route(value: object) -> str | None:
    """A recorded route in canonical form (``None`` when blank; ``other`` when unrecognised)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = re.sub(r"[^a-z]+", " ", str(value).lower()).strip()
    if not text:
        return None
    if text in ROUTES or text.replace(" ", "_") in ROUTES:
        return text.replace(" ", "_")
    for word, route in _ROUTE_WORDS:
        if word in text:
            return route
    return "other"


def derive_route(
    introduced_by: object,
    champion_id: object,
    introducer_role: object,
    threads_before: int,
    champion_before: bool,
) -> str:
    """The route to the decision maker from the introducer and the engagement timeline."""
    intro = None if introduced_by is None or pd.isna(introduced_by) else str(introduced_by)
    if intro:
        if (
            champion_id is not None and not pd.isna(champion_id) and intro == str(champion_id)
        ) or introducer_role == "champion":
            return "champion"
        named = normalise_route(intro)
        if named in ("customer_introduction", "partner_introduction"):
            return named
    if threads_before <= 0:
        return "direct"
    if threads_before == 1:
        return "champion" if champion_before else "other"
    return "consensus"


def add_routes(features: pd.DataFrame) -> pd.DataFrame:
    """``dm_route`` (canonical) and ``dm_route_source`` (recorded / derived) for deals with a
    decision maker; blank for the others."""
    out = features.copy()
    recorded = out["dm_recorded_route"].map(
        {v: normalise_route(v) for v in out["dm_recorded_route"].dropna().unique()}
    )
    has_dm = out["dm_id"].notna().to_numpy()
    need = has_dm & recorded.isna().to_numpy()
    derived = pd.Series(None, index=out.index, dtype=object)
    if need.any():
        sub = out.loc[need]
        derived.loc[need] = [
            derive_route(i, c, r, int(t), bool(b))
            for i, c, r, t, b in zip(
                sub["dm_introduced_by"],
                sub["champion_id"],
                sub["dm_introducer_role"],
                sub["threads_before_dm"],
                sub["champion_before_dm"],
                strict=True,
            )
        ]
    route = recorded.where(recorded.notna(), derived).to_numpy(dtype=object)
    route[~has_dm] = None
    out["dm_route"] = pd.Series(route, index=out.index, dtype=object)  # None, not NaN
    source = np.where(recorded.notna().to_numpy(), "recorded", "derived").astype(object)
    source[~has_dm] = None
    out["dm_route_source"] = pd.Series(source, index=out.index, dtype=object)
    return out


def size_bands(features: pd.DataFrame) -> pd.Series:
    """Deal size within its segment: ``small``, ``medium`` or ``large`` (segment tertiles of the
    amount); blank without an amount."""
    bands = pd.Series(None, index=features.index, dtype=object)
    amount = pd.to_numeric(features["amount"], errors="coerce")
    segment = features["segment"].fillna("(no segment)")
    for _, idx in segment.groupby(segment).groups.items():
        values = amount.loc[idx]
        present = values.dropna()
        if present.empty:
            continue
        low, high = present.quantile([1 / 3, 2 / 3])
        bands.loc[present.index] = np.select(
            [present <= low, present <= high], ["small", "medium"], "large"
        )
    return bands
