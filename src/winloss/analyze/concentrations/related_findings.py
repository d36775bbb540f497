"""The second tier of findings: every other significant single condition, related to the drivers.

The drivers (:func:`~winloss.analyze.concentrations.finding_selection.select_findings`) are a short,
non-redundant set: a condition that the stronger drivers already explain is not kept there. A sales
leader still needs to see it ("competitors present: 21 % won against 67 %"), marked as related to
the drivers that explain it. This module lists them.

Which single conditions are significant
    A single condition (a category value, missingness, a threshold or a range of one field) is
    significant when its q-value in the analysis (Benjamini–Bogomolov over every hypothesis
    tried, pairs included) or its q-value among the single conditions alone is at most ``alpha``.
    The latter is computed over the single conditions of one class. Category values and
    missingness get Benjamini–Hochberg, so a file of categorical fields gets exactly the
    correction a by-hand check would use (one Fisher test per value, Benjamini–Hochberg over
    them). Numeric thresholds and ranges get Benjamini–Bogomolov with each field's cut points as
    one family (Simes across a field's cut points, Benjamini–Hochberg across fields, then within
    the selected fields): dozens of correlated cut points neither dilute a real effect nor, by
    their number, loosen the threshold for a chance band of another field.

Compact listing
    Every significant category value is listed. The many significant cut points of one numeric
    field in one direction tell one story: the strongest is listed, with how many others agree
    (``similar_conditions``); a range is listed only when no threshold of that field and direction
    is. A condition with the shape of a single-condition driver (same field, kind and direction) is
    that driver and not listed again.

Related to which drivers
    ``conditional_effect`` is the condition's mean excess of wins over what the drivers predict
    (a logistic model of the drivers; pre-outcome conditions are conditioned on pre-outcome
    drivers only), with the score test's p-value. ``explained_by`` lists the drivers that alone
    explain at least a quarter of the condition's raw difference from the overall win rate,
    strongest first (at most three).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from winloss.analyze.concentrations.conditions import Condition
from winloss.analyze.concentrations.finding_selection import Candidate, _KeptModel
from winloss.analyze.concentrations.subgroup_search import (
    CodedCondition,
    EncodedAttribute,
    Hypotheses,
    coded_mask,
    to_condition,
)
from winloss.analyze.stats.exact_tests import benjamini_hochberg, family_simes, within_family_bh

#: A driver explains a related condition when alone it removes this share of its raw difference.
EXPLAINED_SHARE = 0.25
#: At most this many drivers named as the explanation of one related condition.
MAX_EXPLAINED_BY = 3
#: At most this many related conditions (strongest first); the rest are counted in a note.
MAX_RELATED = 100


@dataclass(frozen=True)
class RelatedCondition:
    """One significant single condition that is not a driver."""

    candidate: Candidate
    condition: Condition
    mask: NDArray[np.bool_]
    q_single: float
    similar_conditions: int
    conditional_difference: float
    conditional_p_value: float
    given: tuple[int, ...]  # indices of the drivers conditioned on
    explained_by: tuple[int, ...]  # indices of drivers, strongest explanation first
    won_revenue_share: float | None = None


def single_q_values(
    hyp: Hypotheses, attrs: list[EncodedAttribute], alpha: float = 0.05
) -> NDArray[np.float64]:
    """q-values of the single conditions, per class: Benjamini–Hochberg over category values and
    missingness; Benjamini–Bogomolov over numeric cut points, each field's one family (``alpha``
    sets how many families are selected); ``nan`` for combinations."""
    out = np.full(hyp.size, np.nan)
    single = hyp.second < 0
    numeric_attr = np.array([a.numeric for a in attrs], dtype=bool)
    cond_attr = np.array([c.attribute for c in hyp.conditions], dtype=np.int64)
    cond_kind = np.array([c.kind for c in hyp.conditions], dtype=object)
    first = hyp.first.clip(min=0)
    is_numeric_test = (
        numeric_attr[cond_attr[first]] & (cond_kind[first] != "missing")
        if hyp.size
        else np.zeros(0, dtype=bool)
    )
    idx = np.flatnonzero(single & ~is_numeric_test)
    if idx.size:
        out[idx] = benjamini_hochberg(hyp.p_value[idx])
    idx = np.flatnonzero(single & is_numeric_test)
    if idx.size:
        # a field's many cut points are one family (Benjamini–Bogomolov): flat BH over them let
        # one strong field's dozens of discoveries loosen the threshold for the others, and a
        # 3-day band of cycle_days (30 deals; q = 1 over all) was listed as related
        fams, dense = np.unique(hyp.family[idx], return_inverse=True)
        p = hyp.p_value[idx]
        family_q = benjamini_hochberg(family_simes(p, dense, len(fams)))
        selected = max(int(np.count_nonzero(family_q <= alpha)), 1)
        within = within_family_bh(p, dense, len(fams))
        out[idx] = np.maximum(family_q[dense], np.minimum(1.0, within * len(fams) / selected))
    return out


def related_conditions(
    hyp: Hypotheses,
    q: NDArray[np.float64],
    attrs: list[EncodedAttribute],
    won: NDArray[np.bool_],
    drivers: list[tuple[Candidate, NDArray[np.bool_]]],
    post_attr: list[bool],
    *,
    alpha: float,
    ridge: float,
) -> tuple[list[RelatedCondition], int]:
    """Significant single conditions that are not drivers, with their relation to the drivers.

    Returns the related conditions (pre-outcome first, then by evidence) and how many more
    significant conditions there were beyond :data:`MAX_RELATED`.
    """
    if hyp.size == 0:
        return [], 0
    q_single = single_q_values(hyp, attrs, alpha)
    total, wins = int(won.size), int(won.sum())
    single = np.flatnonzero((hyp.second < 0) & ((q <= alpha) | (q_single <= alpha)))
    driver_conditions = {d.conditions[0] for d, _ in drivers if len(d.conditions) == 1}
    driver_shapes = {
        _shape(d.conditions[0], d.direction) for d, _ in drivers if len(d.conditions) == 1
    }
    driver_numeric = {
        (d.conditions[0].attribute, d.direction)
        for d, _ in drivers
        if len(d.conditions) == 1 and d.conditions[0].kind in ("le", "gt", "window")
    }
    # "x <= a wins more" and "x > b wins less" on one field tell one story (the driver's)
    flipped = {
        (
            d.conditions[0].attribute,
            "gt" if d.conditions[0].kind == "le" else "le",
            "loss" if d.direction == "win" else "win",
        )
        for d, _ in drivers
        if len(d.conditions) == 1 and d.conditions[0].kind in ("le", "gt")
    }
    groups: dict[tuple[object, ...], list[int]] = {}
    directions: dict[int, str] = {}
    for h in (int(x) for x in single):
        cond = hyp.conditions[hyp.first[h]]
        n, w = float(hyp.n[h]), float(hyp.wins[h])
        rest = (wins - w) / max(total - n, 1.0)
        direction = "win" if w / n > rest else "loss"
        directions[h] = direction
        if cond in driver_conditions or _shape(cond, direction) in driver_shapes:
            continue
        if cond.kind in ("le", "gt", "window"):
            if (cond.attribute, direction) in driver_numeric or (
                cond.attribute,
                cond.kind,
                direction,
            ) in flipped:
                continue
            key: tuple[object, ...] = (
                cond.attribute,
                "threshold" if cond.kind != "window" else "window",
                direction,
            )
        else:
            key = (cond.attribute, cond.kind, cond.a)
        groups.setdefault(key, []).append(h)
    with_threshold = {(k[0], k[2]) for k in groups if k[1] == "threshold"}
    chosen: list[tuple[int, int]] = []
    for key, members in groups.items():
        if key[1] == "window" and (key[0], key[2]) in with_threshold:
            continue
        best = max(members, key=lambda h: float(hyp.strength[h]))
        chosen.append((best, len(members) - 1))
    chosen.sort(
        key=lambda pair: (
            post_attr[hyp.conditions[hyp.first[pair[0]]].attribute],
            -float(hyp.strength[pair[0]]),
        )
    )
    left_off = max(0, len(chosen) - MAX_RELATED)
    chosen = chosen[:MAX_RELATED]

    driver_post = [any(post_attr[c.attribute] for c in d.conditions) for d, _ in drivers]
    pre_idx = tuple(i for i, p in enumerate(driver_post) if not p)
    all_idx = tuple(range(len(drivers)))
    models = {
        pre_idx: _model([drivers[i][1] for i in pre_idx], won, ridge),
        all_idx: _model([m for _, m in drivers], won, ridge),
    }
    alone = [_model([m], won, ridge) for _, m in drivers]
    base = wins / total
    out: list[RelatedCondition] = []
    for h, similar in chosen:
        cond = hyp.conditions[hyp.first[h]]
        mask = coded_mask(cond, attrs[cond.attribute])
        is_post = post_attr[cond.attribute]
        given = all_idx if is_post else pre_idx
        excess, p = models[given].score_test(mask)
        raw = float(won[mask].mean()) - base
        shares: list[tuple[float, int]] = []
        for i in given:
            e_i, _ = alone[i].score_test(mask)
            share = 1.0 - (e_i / raw) if raw else 0.0
            if share >= EXPLAINED_SHARE:
                shares.append((share, i))
        shares.sort(reverse=True)
        shares = shares[:MAX_EXPLAINED_BY]
        direction = directions[h]
        n, w = int(hyp.n[h]), int(hyp.wins[h])
        rest_rate = (wins - w) / max(total - n, 1)
        candidate = Candidate(
            hypothesis=h,
            family=int(hyp.family[h]),
            conditions=(cond,),
            n=n,
            wins=w,
            p_value=float(hyp.p_value[h]),
            q_value=float(q[h]),
            p_added=None,
            direction=direction,
            difference=w / n - rest_rate,
            strength=float(hyp.strength[h]),
        )
        out.append(
            RelatedCondition(
                candidate,
                to_condition(cond, attrs[cond.attribute]),
                mask,
                float(q_single[h]),
                similar,
                excess,
                p,
                given,
                tuple(i for _, i in shares),
            )
        )
    return out, left_off


def _shape(cond: CodedCondition, direction: str) -> tuple[object, ...]:
    if cond.kind in ("le", "gt"):
        return (cond.attribute, "threshold", direction)
    if cond.kind == "window":
        return (cond.attribute, "window", direction)
    return (cond.attribute, cond.kind, cond.a, direction)


def _model(masks: list[NDArray[np.bool_]], won: NDArray[np.bool_], ridge: float) -> _KeptModel:
    model = _KeptModel(won, ridge)
    for m in masks:
        model.add(m)
    return model
