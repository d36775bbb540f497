"""Deals with planted win/loss patterns, for the concentration tests and benchmarks.

Every deal's win probability follows a logistic model with known effects: main effects on
categorical and numeric fields with known cut points, one interaction whose parts have no effect of
their own, and noise columns that have none. :data:`PLANTED_PATTERNS` is the truth to recover.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PlantedPattern:
    """One planted effect: ``fields`` ``op`` ``value`` moves the win rate in ``direction``."""

    fields: tuple[str, ...]
    op: str  # "<=" or "==" (for every field of the pattern)
    value: tuple[object, ...]
    direction: str  # "win" or "loss"
    logit_effect: float


PLANTED_PATTERNS: tuple[PlantedPattern, ...] = (
    PlantedPattern(("champion_tenure_days",), "<=", (90,), "win", 1.1),
    PlantedPattern(("days_to_critical_event",), "<=", (120,), "win", 1.0),
    PlantedPattern(("stakeholders",), "<=", (1,), "loss", -1.1),
    PlantedPattern(("pain_category",), "==", ("ux",), "loss", -1.0),
    # an interaction: neither referral deals nor healthcare deals differ on their own
    PlantedPattern(("source", "industry"), "==", ("referral", "healthcare"), "win", 1.8),
)
BASE_LOGIT = -0.9

#: Analysed attributes with no effect on the outcome (cycle_days is derived and post-outcome).
NOISE_FIELDS: tuple[str, ...] = (
    "region",
    "segment",
    "product",
    "owner",
    "strategic_importance",
    "criteria_co_created",
    "decision_maker_engaged",
    "impact_value",
    "amount",
    "partner_tier",
    "lead_score",
    "marketing_touches",
    "discount_pct",
    "cycle_days",
)
PLANTED_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(f for p in PLANTED_PATTERNS for f in p.fields)
)
FIRST_CLOSE = dt.date(2024, 1, 1)
QUARTERS = 8


def _choice(rng: np.random.Generator, values: list[str], p: list[float], n: int) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


def planted_attributes(n: int, *, seed: int = 0, effect_scale: float = 1.0) -> pd.DataFrame:
    """The analysed attributes (derived ones computed directly) and ``won``, one row per deal.

    This is the frame other tools (pysubgroup) see; :func:`planted_deals` turns it into a
    canonical import file.
    """
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 541, n)  # even density across the cut: 1 in 6 newly hired
    days_to_event = rng.integers(0, 366, n).astype(float)
    days_to_event[rng.random(n) < 0.12] = np.nan
    frame = pd.DataFrame(
        {
            "champion_tenure_days": tenure.astype(float),
            "days_to_critical_event": days_to_event,
            "stakeholders": rng.choice(
                np.arange(1, 9), size=n, p=[0.25, 0.2, 0.18, 0.14, 0.1, 0.06, 0.04, 0.03]
            ).astype(float),
            "pain_category": _choice(
                rng,
                ["technology", "process", "ux", "cost", "compliance", "other"],
                [0.25, 0.25, 0.2, 0.15, 0.1, 0.05],
                n,
            ),
            "source": _choice(
                rng,
                ["inbound", "outbound", "referral", "partner", "event"],
                [0.3, 0.25, 0.25, 0.1, 0.1],
                n,
            ),
            "industry": _choice(
                rng,
                ["healthcare", "finance", "retail", "manufacturing", "software"],
                [0.25, 0.25, 0.2, 0.2, 0.1],
                n,
            ),
            "region": _choice(
                rng, ["north", "south", "east", "west", "central"], [0.2, 0.2, 0.2, 0.2, 0.2], n
            ),
            "segment": _choice(rng, ["SMB", "Mid-Market", "Enterprise"], [0.5, 0.3, 0.2], n),
            "product": _choice(
                rng, ["core", "analytics", "security", "platform"], [0.4, 0.25, 0.2, 0.15], n
            ),
            "owner": _choice(rng, [f"rep{i:02d}" for i in range(12)], [1 / 12] * 12, n),
            "strategic_importance": _choice(rng, ["low", "medium", "high"], [0.3, 0.4, 0.3], n),
            "criteria_co_created": rng.random(n) < 0.4,
            "decision_maker_engaged": rng.random(n) < 0.55,
            "impact_value": np.round(rng.lognormal(11, 1, n), 2),
            "amount": np.round(rng.lognormal(10, 0.8, n), 2),
            "partner_tier": _choice(
                rng, ["none", "silver", "gold", "platinum"], [0.55, 0.25, 0.15, 0.05], n
            ),
            "lead_score": rng.integers(0, 101, n).astype(float),
            "marketing_touches": rng.poisson(5, n).astype(float),
            "discount_pct": np.round(rng.uniform(0, 30, n), 1),
            "cycle_days": (15 + rng.gamma(2.0, 30.0, n)).astype(int).astype(float),
        }
    )
    logit = np.full(n, BASE_LOGIT)
    for pattern in PLANTED_PATTERNS:
        hit = np.ones(n, dtype=bool)
        for field, value in zip(pattern.fields, pattern.value, strict=True):
            column = frame[field]
            if pattern.op == "<=":
                hit &= (column <= value).to_numpy(dtype=bool)  # missing never hits
            else:
                hit &= (column == value).to_numpy(dtype=bool)
        logit += effect_scale * pattern.logit_effect * hit
    frame["won"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    return frame


def planted_deals(n: int, *, seed: int = 0, effect_scale: float = 1.0) -> pd.DataFrame:
    """A canonical deals file (``winloss import deals``) with the planted patterns.

    Deals close evenly over :data:`QUARTERS` quarters from :data:`FIRST_CLOSE`; the effects are
    the same in every quarter.
    """
    attrs = planted_attributes(n, seed=seed, effect_scale=effect_scale)
    rng = np.random.default_rng(seed + 1_000_003)
    day = np.timedelta64(1, "D")
    closed = np.datetime64(FIRST_CLOSE, "D") + rng.integers(0, QUARTERS * 91, n) * day
    created = closed - attrs["cycle_days"].to_numpy(dtype=np.int64) * day
    champion_start = created - attrs["champion_tenure_days"].to_numpy(dtype=np.int64) * day
    event = pd.Series(created) + pd.to_timedelta(attrs["days_to_critical_event"], unit="D")
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i:07d}" for i in range(n)],
            "created_at": created,
            "closed_at": closed,
            "outcome": np.where(attrs["won"], "won", "lost"),
            "champion_start_date": champion_start,
            "critical_event_date": event,
            "stakeholders": attrs["stakeholders"].astype(int),
        }
    )
    for column in attrs.columns:
        if column not in deals.columns and column not in (
            "won",
            "cycle_days",
            "champion_tenure_days",
            "days_to_critical_event",
        ):
            deals[column] = attrs[column]
    return deals


def shuffled_outcomes(won: np.ndarray, seed: int) -> np.ndarray:
    """The same outcomes in a random order: every pattern is destroyed, the base rate kept."""
    return np.random.default_rng(seed).permutation(won)
