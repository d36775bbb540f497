"""One plain sentence per finding, for the sales leader who has to act on it.

"Deals whose critical event was at most 118 days away won 52 % (95 % CI 48–56 %) against 27 % for
the rest — 1,204 deals, held in 7 of 8 quarters."
"""

from __future__ import annotations

from winloss.analyze.concentrations.conditions import Condition, describe


def percent(rate: float) -> str:
    """A rate as a whole percentage, or one decimal below 1 %."""
    value = 100 * rate
    if 0 < value < 1:
        return f"{value:.1f}"
    return f"{value:.0f}"


def percent_pair(a: float, b: float) -> tuple[str, str]:
    """Two rates as :func:`percent`, with one decimal where whole ones would print one number for
    two different rates (``15–15`` read as no uncertainty, ``23% → 23%`` as no change)."""
    x, y = percent(a), percent(b)
    if x == y and a != b:
        x, y = f"{100 * a:.1f}", f"{100 * b:.1f}"
    return x, y


def percent_range(low: float, high: float) -> str:
    """``"48–56"``: an interval as :func:`percent_pair`."""
    return "–".join(percent_pair(low, high))


def statement(
    conditions: tuple[Condition, ...],
    *,
    direction: str,
    n: int,
    win_rate: float,
    ci_low: float,
    ci_high: float,
    rest_win_rate: float,
    quarters_held: int | None,
    quarters_seen: int | None,
    earlier_quarters: bool,
    post_outcome_fields: tuple[str, ...],
    holds_when_adjusted: bool | None,
    integers: frozenset[str] = frozenset(),
) -> str:
    """The sentence of one finding."""
    only = "only " if direction == "loss" else ""
    text = (
        f"Deals {describe(conditions, integers)} won {only}{percent(win_rate)} % "
        f"(95 % CI {percent_range(ci_low, ci_high)} %) against "
        f"{percent(rest_win_rate)} % for the rest — {n:,} deals"
    )
    if quarters_seen:
        which = "earlier quarters" if earlier_quarters else "quarters"
        text += f", held in {quarters_held} of {quarters_seen} {which}"
    if holds_when_adjusted is False:
        text += ", but not once the other findings are taken into account"
    if post_outcome_fields:
        names = " and ".join(f.replace("_", " ") for f in post_outcome_fields)
        verb = "is" if len(post_outcome_fields) == 1 else "are"
        text += (
            f" ({names} {verb} known only after the outcome: this explains, it does not predict)"
        )
    return text + "."
