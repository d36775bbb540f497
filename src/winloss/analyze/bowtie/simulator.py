"""The compounding simulator: new and recurring revenue per quarter from the Bowtie's rates.

A deterministic flow model, vectorised over Monte Carlo draws:

* ``volume`` new entries reach the first stage each quarter; a share ``conversion[k]`` of those in
  stage ``k`` reach stage ``k + 1`` after ``days[k]`` (a fractional delay in quarters is split
  between the two neighbouring quarters, so the arithmetic stays linear);
* entries of the last stage are won deals (bookings); each adds ``mrr_per_deal`` to recurring MRR;
* recurring MRR compounds each quarter by NRR^(1/4) (annual NRR); quarterly revenue is 3 × MRR.

Because the flow is linear, multiplying every conversion rate by 1.1 multiplies bookings by
exactly 1.1^k. Levers change one input (``cr.selection=+5%``, ``cr.*=+10%``, ``dt.selection=-10%``,
``nrr=+2pt``, ``grr=+2pt``, ``vm=+10%``, ``acv=+5%``); each is run alone and all together, and
ranked by its effect on year-3 revenue. A conversion rate stays within 0–100 %: a lever on one named
stage that would push it outside is refused (:func:`check_lever` says how far it can go), while
``cr.*`` caps the stages it would push past 100 % (or below 0) and says which. A relative change of
less than −100 % is refused for every input (it would make the input negative). The Monte Carlo draws the measured rates from their
sampling uncertainty: conversion ~ Beta(k + ½, n − k + ½) on the effective counts, volume ~
Gamma(entries + ½, 1/quarters) (a Poisson rate), NRR and MRR per deal ~ Normal(estimate, s.e.).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from winloss.errors import UsageError

DAYS_PER_QUARTER = 365.25 / 4
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GrowthModel:
    """The measured inputs of the simulator (one value each; uncertainty in the ``n_*`` fields)."""

    stages: tuple[str, ...]
    conversion: tuple[float, ...]
    days: tuple[float, ...]
    volume: float  # entries into the first stage per quarter
    mrr_per_deal: float
    nrr: float  # annual net revenue retention
    starting_mrr: float = 0.0
    conversion_n: tuple[float, ...] = ()  # effective counts behind each conversion
    volume_entries: float = 0.0  # entries observed over volume_quarters
    volume_quarters: float = 0.0
    nrr_se: float = 0.0
    mrr_per_deal_se: float = 0.0

    def __post_init__(self) -> None:
        if not (len(self.stages) == len(self.conversion) == len(self.days)):
            raise UsageError("the growth model needs one conversion and one time per stage")


@dataclass(frozen=True)
class Lever:
    """A change to one input: ``target`` (cr.STAGE, dt.STAGE, nrr, grr, vm, acv), kind, amount."""

    text: str
    target: str
    stage: str | None
    amount: float
    unit: str  # "%" (relative) or "pt" (absolute points)


_LEVER = re.compile(
    r"^\s*(cr|dt|nrr|grr|vm|acv)(?:\.([\w*\- ]+))?\s*=\s*([+-]?\d+(?:\.\d+)?)\s*"
    r"(%|pt)\s*$",
    re.IGNORECASE,
)


def parse_lever(text: str, stages: tuple[str, ...]) -> Lever:
    """A lever from ``NAME=CHANGE`` (``cr.selection=+5%``, ``dt.*=-10%``, ``nrr=+2pt``)."""
    m = _LEVER.match(text)
    if not m:
        raise UsageError(
            f"lever {text!r}: write NAME=CHANGE with NAME one of cr.STAGE, dt.STAGE, "
            "nrr, grr, vm, acv and CHANGE like +5% or +2pt"
        )
    target, stage, amount, unit = m.group(1).lower(), m.group(2), float(m.group(3)), m.group(4)
    if target in ("cr", "dt"):
        if stage is None or (stage != "*" and stage not in stages):
            raise UsageError(
                f"lever {text!r}: name a stage ({', '.join(stages)}) or * after {target}."
            )
    elif stage is not None:
        raise UsageError(f"lever {text!r}: {target} takes no stage")
    if target in ("nrr", "grr", "cr") or unit == "%":
        pass
    else:
        raise UsageError(f"lever {text!r}: {target} changes in % (e.g. {target}=+10%)")
    if unit == "%" and amount < -100:
        raise UsageError(
            f"lever {text!r}: a change below -100% would make {target} negative; "
            "-100% takes it to zero"
        )
    return Lever(text=text.strip(), target=target, stage=stage, amount=amount, unit=unit.lower())


def _changed(value: float, lever: Lever) -> float:
    """``value`` after the lever's change (relative in %, absolute in points)."""
    return value * (1 + lever.amount / 100) if lever.unit == "%" else value + lever.amount / 100


def _hits(stage: str, lever: Lever) -> bool:
    return lever.stage == "*" or lever.stage == stage


def _room(rate: float, lever: Lever) -> str:
    """How far a conversion ``rate`` can move in the lever's unit and direction within 0–100 %."""
    # rounded towards zero, so that the change suggested is one the check accepts (a rounded-up
    # "+148.6%" was refused as going past 100 %)
    if lever.amount > 0:
        room = (1 / rate - 1) * 100 if lever.unit == "%" else (1 - rate) * 100
        return f"at most +{math.floor(room * 10) / 10:g}{lever.unit}, which takes it to 100 %"
    room = -100.0 if lever.unit == "%" else -rate * 100
    return f"at least {math.ceil(room * 10) / 10:g}{lever.unit}, which takes it to 0 %"


def check_lever(model: GrowthModel, lever: Lever) -> str | None:
    """Refuse a lever that would push a named stage's conversion rate above 100 % or below 0
    (:class:`UsageError` saying how far it can go); for ``cr.*``, the note that the stages it
    would push out of 0–100 % are capped there (``None`` when nothing is capped)."""
    if lever.target != "cr":
        return None
    outside = [
        (stage, rate, _changed(rate, lever))
        for stage, rate in zip(model.stages, model.conversion, strict=True)
        if _hits(stage, lever) and not -1e-12 <= _changed(rate, lever) <= 1.0 + 1e-12
    ]
    if not outside:
        return None
    if lever.stage != "*":
        stage, rate, new = outside[0]
        raise UsageError(
            f"lever {lever.text!r}: {stage} converts {rate:.1%}; the change would make it "
            f"{new:.1%}, and a conversion rate stays within 0–100 % ({_room(rate, lever)})"
        )
    bound = "100 %" if lever.amount > 0 else "0 %"
    stages = ", ".join(f"{stage} {rate:.1%} → {new:.1%}" for stage, rate, new in outside)
    return f"lever {lever.text!r}: capped at {bound} where it would go past ({stages})"


def apply_lever(model: GrowthModel, lever: Lever) -> GrowthModel:
    """The model with one lever applied (conversions capped within 0–1, NRR at ≥ 0; see
    :func:`check_lever` for the refusal of a named stage pushed outside)."""

    if lever.target == "cr":
        conv = tuple(
            min(1.0, max(0.0, _changed(c, lever))) if _hits(s, lever) else c
            for s, c in zip(model.stages, model.conversion, strict=True)
        )
        return replace(model, conversion=conv)
    if lever.target == "dt":
        days = tuple(
            max(0.0, _changed(d, lever)) if _hits(s, lever) else d
            for s, d in zip(model.stages, model.days, strict=True)
        )
        return replace(model, days=days)
    if lever.target in ("nrr", "grr"):
        # NRR = GRR + expansion: a GRR gain moves NRR by the same amount
        return replace(model, nrr=max(0.0, _changed(model.nrr, lever)))
    if lever.target == "vm":
        return replace(model, volume=max(0.0, _changed(model.volume, lever)))
    return replace(model, mrr_per_deal=max(0.0, _changed(model.mrr_per_deal, lever)))


@dataclass(frozen=True)
class Projection:
    """Quarterly projections, one row per draw: bookings (deals), new MRR, MRR and revenue."""

    bookings: FloatArray
    new_mrr: FloatArray
    mrr: FloatArray
    revenue: FloatArray

    def year_revenue(self, year: int) -> FloatArray:
        return np.asarray(self.revenue[:, 4 * (year - 1) : 4 * year].sum(axis=1), dtype=np.float64)


def project(
    volume: FloatArray,
    conversion: FloatArray,
    days: FloatArray,
    mrr_per_deal: FloatArray,
    nrr: FloatArray,
    starting_mrr: float,
    quarters: int,
    before: tuple[FloatArray, FloatArray, FloatArray] | None = None,
) -> Projection:
    """Project ``quarters`` quarters for each draw (arrays: one row per draw).

    ``conversion`` and ``days`` are (draws, stages); the others (draws,). The pipeline starts
    full: the quarters before the projection ran with ``before`` = (volume, conversion, days)
    (default: the same rates), so with nothing changed quarter 1 books as much as quarter 10, and a
    lever acts on what moves from quarter 1 on (a shorter stage pulls deals in flight forward).
    """
    draws, n_stages = conversion.shape
    old_volume, old_conv, old_days = before if before is not None else (volume, conversion, days)
    longest = max(float(days.sum(axis=1).max()), float(old_days.sum(axis=1).max()))
    warm = int(np.ceil(longest / DAYS_PER_QUARTER)) + n_stages + 1
    total = warm + quarters
    flow = np.empty((draws, total))
    flow[:, :warm] = old_volume[:, None]
    flow[:, warm:] = volume[:, None]
    rows = np.arange(draws)
    for k in range(n_stages):
        moved = np.zeros_like(flow)
        for q in range(total):
            conv_k, days_k = (
                (old_conv[:, k], old_days[:, k]) if q < warm else (conversion[:, k], days[:, k])
            )
            delay = days_k / DAYS_PER_QUARTER
            lo = np.floor(delay).astype(int)
            frac = delay - lo
            out = flow[:, q] * conv_k
            a = q + lo
            ok = a < total
            moved[rows[ok], a[ok]] += out[ok] * (1 - frac[ok])
            b = a + 1
            ok_b = b < total
            moved[rows[ok_b], b[ok_b]] += out[ok_b] * frac[ok_b]
        flow = moved
    bookings = flow[:, warm:]
    new_mrr = bookings * mrr_per_deal[:, None]
    growth = np.power(np.maximum(nrr, 0.0), 0.25)
    mrr = np.zeros((draws, quarters))
    current = np.full(draws, starting_mrr, dtype=float)
    for q in range(quarters):
        current = current * growth + new_mrr[:, q]
        mrr[:, q] = current
    return Projection(bookings=bookings, new_mrr=new_mrr, mrr=mrr, revenue=3.0 * mrr)


def _arrays(model: GrowthModel) -> tuple[FloatArray, FloatArray, FloatArray]:
    return (
        np.array([model.volume], dtype=float),
        np.array([model.conversion], dtype=float),
        np.array([model.days], dtype=float),
    )


def project_model(
    model: GrowthModel, quarters: int, baseline: GrowthModel | None = None
) -> Projection:
    """The deterministic projection of one model (levers acting from quarter 1 on ``baseline``)."""
    volume, conv, days = _arrays(model)
    one = np.ones(1)
    return project(
        volume,
        conv,
        days,
        one * model.mrr_per_deal,
        one * model.nrr,
        model.starting_mrr,
        quarters,
        before=_arrays(baseline) if baseline is not None else None,
    )


def draw_models(
    model: GrowthModel, draws: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Monte Carlo draws of (volume, conversion, days, mrr_per_deal, nrr) from their uncertainty."""
    conv = np.empty((draws, len(model.stages)))
    ns = model.conversion_n or tuple(0.0 for _ in model.stages)
    for k, (c, n) in enumerate(zip(model.conversion, ns, strict=True)):
        if n > 0:
            conv[:, k] = rng.beta(c * n + 0.5, (1 - c) * n + 0.5, draws)
        else:
            conv[:, k] = c
    if model.volume_quarters > 0:
        volume = rng.gamma(model.volume_entries + 0.5, 1.0 / model.volume_quarters, draws)
    else:
        volume = np.full(draws, model.volume)
    nrr = (
        model.nrr + model.nrr_se * rng.standard_normal(draws)
        if model.nrr_se > 0
        else np.full(draws, model.nrr)
    )
    acv = (
        model.mrr_per_deal + model.mrr_per_deal_se * rng.standard_normal(draws)
        if model.mrr_per_deal_se > 0
        else np.full(draws, model.mrr_per_deal)
    )
    days = np.tile(np.asarray(model.days, dtype=float), (draws, 1))
    return volume, conv, days, np.maximum(acv, 0.0), np.maximum(nrr, 0.0)


@dataclass(frozen=True)
class MonteCarlo:
    """The distribution of final-year revenue and the chance of reaching the growth target."""

    draws: int
    level: float
    revenue_low: float
    revenue_median: float
    revenue_high: float
    target_growth: float | None
    target_revenue: float | None
    probability: float | None
    samples: FloatArray = field(repr=False, default_factory=lambda: np.zeros(0))


def monte_carlo(
    model: GrowthModel,
    *,
    years: int,
    draws: int = 2000,
    seed: int = 0,
    level: float = 0.9,
    target_growth: float | None = None,
) -> MonteCarlo:
    """Final-year revenue over ``draws`` draws: a central ``level`` interval, and P(target).

    The target is compound annual growth ``target_growth`` over the current annual revenue
    (12 × starting MRR): reached when year-``years`` revenue ≥ 12 × MRR₀ × (1 + g)^years.
    """
    rng = np.random.default_rng(seed)
    volume, conv, days, acv, nrr = draw_models(model, draws, rng)
    proj = project(volume, conv, days, acv, nrr, model.starting_mrr, 4 * years)
    final = proj.year_revenue(years)
    tail = (1 - level) / 2
    target = None
    prob = None
    if target_growth is not None:
        target = 12.0 * model.starting_mrr * (1.0 + target_growth) ** years
        prob = float(np.mean(final >= target))
    return MonteCarlo(
        draws=draws,
        level=level,
        revenue_low=float(np.quantile(final, tail)),
        revenue_median=float(np.median(final)),
        revenue_high=float(np.quantile(final, 1 - tail)),
        target_growth=target_growth,
        target_revenue=target,
        probability=prob,
        samples=final,
    )
