"""Buying committees and product usage of the demo company, with planted effects.

The deals' outcomes are drawn first (:func:`winloss.demo.generator.generate_deals`); the committee
facts and usage patterns here are then drawn *given* each closed deal's outcome, so that the
planted log-odds effects hold exactly without changing any deal (and so without moving the effects
planted in the deals). For a binary fact with base rate ``π`` and effect ``β``::

    P(fact | lost) = π        P(fact | won) = π·e^β / (π·e^β + 1 − π)

which makes the odds ratio of winning with vs without the fact exactly ``e^β``; categorical facts
(routes) draw from weights ``π_r·e^(β_r·won)``, so the odds ratio between two routes is
``e^(β_r − β_s)``. Open deals draw from the base rates: they carry no planted effect.

Every draw uses its own generator seeded from the demo seed, so the tables generated before
(deals, activities, stage history, subscriptions) are unchanged.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

#: Offsets of this module's random streams from the demo seed (distinct from every other stream of
#: the generator, so no two tables share draws).
COMMITTEE_SEED_OFFSET = 15_001
USAGE_SEED_OFFSET = 3_000

#: Canonical routes to the decision maker (see docs/committee.md).
ROUTES = ("direct", "champion", "customer_introduction", "partner_introduction", "consensus")
#: Base mix of the routes among deals whose decision maker was reached.
ROUTE_BASE = np.array([0.30, 0.35, 0.10, 0.10, 0.15])
#: Planted log-odds of winning by route, per segment (relative; only differences matter).
ROUTE_EFFECTS: dict[str, tuple[float, ...]] = {
    "SMB": (1.0, 0.0, 0.3, 0.0, -0.3),
    "Mid-Market": (0.0, 0.8, 0.3, 0.0, 0.2),
    "Enterprise": (-0.4, 1.2, 0.4, 0.0, 0.3),
}
#: How the CRM records each route: spellings the analysis normalises.
ROUTE_SPELLINGS: dict[str, tuple[str, ...]] = {
    "direct": ("direct", "top-down", "Direct"),
    "champion": ("through champion", "champion", "Champion intro"),
    "customer_introduction": ("customer introduction", "customer intro"),
    "partner_introduction": ("partner introduction", "partner"),
    "consensus": ("consensus across threads", "consensus"),
}

#: The planted committee and PLG effects, checked by tests/analyze/committee and tests/analyze/plg.
PLANTED_COMMITTEE = {
    "dm_late_after_days": 30,  # decision maker reached after day 30: log-odds −1.0
    "dm_late_effect": -1.5,
    "champion_left_effect": -1.3,  # champion leaves the customer mid-deal
    "route_blank_share": 0.3,  # recorded route left blank (derived by the analysis)
}
PLANTED_PLG = {
    "milestone_users": 3,  # ≥ 3 active users within 14 days of the first event
    "milestone_days": 14,
    "milestone_effect": 1.6,  # log-odds of converting within the horizon
    "horizon_days": 180,  # conversion: a won deal created after the first event, closed ≤ 180 d
    # sales-led deals at accounts that used the product before: log-odds by segment
    "prior_usage_effect": {"SMB": 0.9, "Mid-Market": 0.0, "Enterprise": -1.2},
}


def _given_outcome(
    rng: np.random.Generator,
    base: float,
    effect: float | np.ndarray,
    won: np.ndarray,
    closed: np.ndarray,
) -> np.ndarray:
    """Draw a binary fact with odds ratio ``e^effect`` of winning (see the module docstring)."""
    boosted = base * np.exp(effect)
    p_won = boosted / (boosted + 1 - base)
    p = np.where(closed & won, p_won, base)
    return np.asarray(rng.random(won.size) < p)


def committees(
    deals: pd.DataFrame,
    people: pd.DataFrame,
    activities: pd.DataFrame,
    *,
    seed: int,
    as_of: dt.date,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Enrich the committee roster and assign activities to its people.

    Returns the stakeholders (with seniority, start dates, engagement dates, routes, introducers and
    champions who left) and the activities with each one's contact (only ``contact_id`` changes).
    """
    rng = np.random.default_rng(seed + COMMITTEE_SEED_OFFSET)
    end = pd.Timestamp(as_of)
    d = deals.set_index("deal_id")
    closed = (d["outcome"] != "open").to_numpy()
    won = (d["outcome"] == "won").to_numpy()
    deal_end = np.where(closed, d["closed_at"], end).astype("datetime64[ns]")
    length = np.maximum(
        1, ((deal_end - d["created_at"].to_numpy()) / np.timedelta64(1, "D")).astype(int)
    )
    index = {k: i for i, k in enumerate(d.index)}
    n = len(d)
    segment = d["segment"].to_numpy()

    # route to the decision maker, drawn given the outcome and the segment
    effects = np.array([ROUTE_EFFECTS.get(s, ROUTE_EFFECTS["Mid-Market"]) for s in segment])
    weights = ROUTE_BASE[None, :] * np.exp(effects * (closed & won)[:, None])
    size = people.groupby("deal_id").size().reindex(d.index).fillna(0).to_numpy()
    weights[size < 3, ROUTES.index("consensus")] = 0.0  # consensus needs a third thread
    weights /= weights.sum(axis=1, keepdims=True)
    route = np.array([rng.choice(len(ROUTES), p=w) for w in weights])
    late = _given_outcome(rng, 0.5, PLANTED_COMMITTEE["dm_late_effect"], won, closed)
    cut = int(PLANTED_COMMITTEE["dm_late_after_days"])
    late &= (length > cut + 1) & (route != ROUTES.index("direct"))
    # late decision makers mostly come within weeks of the cut, a few months later
    late_day = cut + 1 + np.minimum(np.floor(rng.exponential(12, n)), 120).astype(int)
    dm_day = np.where(
        route == ROUTES.index("direct"), 0, np.where(late, late_day, rng.integers(1, cut + 1, n))
    )
    dm_day = np.minimum(dm_day, np.maximum(length - 1, 0))
    dm_day = np.where(late, np.maximum(dm_day, cut + 1), dm_day)
    left = _given_outcome(rng, 0.12, PLANTED_COMMITTEE["champion_left_effect"], won, closed)
    left_day = np.round(length * rng.uniform(0.25, 0.75, n)).astype(int)
    blank_route = rng.random(n) < PLANTED_COMMITTEE["route_blank_share"]

    out = people.copy()
    # the roster's spare economic buyers would stand in for the decision maker: the demo's only
    # decision makers are the planted ones (role decision_maker), so they become influencers
    out["role"] = out["role"].replace("economic_buyer", "influencer")
    out["introduced_by"] = None
    out["left_at"] = pd.NaT
    row_deal = np.array([index[x] for x in out["deal_id"]])
    rank = out.groupby("deal_id").cumcount().to_numpy()
    role = out["role"].to_numpy()
    created = d["created_at"].to_numpy()[row_deal]
    champion_id = out["deal_id"].to_numpy().astype(str) + "-C1"
    day = np.zeros(len(out), dtype=int)
    reached = np.empty(len(out), dtype=object)
    introduced = np.full(len(out), None, dtype=object)
    seniority = rng.choice(np.array(["manager", "staff", "director"]), len(out), p=[0.5, 0.3, 0.2])
    other_intro = rng.random(len(out)) < 0.5
    for i in range(len(out)):
        k = row_deal[i]
        r = ROUTES[route[k]]
        if rank[i] == 0:  # the champion: first thread, from day 0
            seniority[i] = rng.choice(["director", "vp", "manager"])
            reached[i] = "direct"
            continue
        if role[i] == "decision_maker":
            day[i] = dm_day[k]
            seniority[i] = "c-level"
            spelling = ROUTE_SPELLINGS[r]
            reached[i] = None if blank_route[k] else spelling[int(rng.integers(len(spelling)))]
            introduced[i] = {
                "champion": champion_id[i],
                "customer_introduction": "customer",
                "partner_introduction": "partner",
            }.get(r)
            continue
        has_dm = bool(d["decision_maker_engaged"].iat[k]) and size[k] >= 2
        if has_dm and r == "consensus" and rank[i] == 2:
            day[i] = int(rng.integers(0, max(1, dm_day[k])))  # a second thread before the DM
        elif has_dm and r in ("champion", "direct"):
            day[i] = dm_day[k] + 1 + int(rng.integers(0, 40))  # widened after the DM
        else:
            day[i] = int(rng.integers(0, 60))
        day[i] = min(day[i], max(length[k] - 1, 0))
        if has_dm and r == "champion" and day[i] <= dm_day[k]:
            day[i] = dm_day[k] + 1  # the champion alone led to the DM, even in a short deal
        reached[i] = "champion" if other_intro[i] else "direct"
        introduced[i] = champion_id[i] if other_intro[i] else None
    out["engaged_at"] = pd.to_datetime(created) + pd.to_timedelta(day, unit="D")
    out["reached_via"] = reached
    out["introduced_by"] = introduced
    out["seniority"] = seniority
    champion = rank == 0
    out.loc[champion, "start_date"] = d["champion_start_date"].to_numpy()[row_deal[champion]]
    leaves = champion & left[row_deal]
    out.loc[leaves, "left_at"] = (
        pd.to_datetime(created[leaves]) + pd.to_timedelta(left_day[row_deal[leaves]], unit="D")
    ).normalize()
    out["start_date"] = pd.to_datetime(out["start_date"])

    acts = activities.copy()
    acts["contact_id"] = _assign_contacts(acts, out, rng)
    return out, acts


def _assign_contacts(
    acts: pd.DataFrame, people: pd.DataFrame, rng: np.random.Generator
) -> np.ndarray:
    """Each activity goes to a person already engaged and not gone (the champion counts twice)."""
    contacts = acts["contact_id"].to_numpy().astype(object)
    by_deal = {k: g for k, g in people.groupby("deal_id")}
    for deal_id, rows in acts.groupby("deal_id").indices.items():
        group = by_deal.get(deal_id)
        if group is None:
            continue
        ids = group["contact_id"].to_numpy()
        engaged = group["engaged_at"].to_numpy()
        gone = group["left_at"].to_numpy()
        weight = np.where(np.arange(len(ids)) == 0, 2.0, 1.0)
        for j in rows:
            t = np.datetime64(acts["occurred_at"].iat[j])
            ok = (engaged <= t) & ~(~pd.isna(gone) & (gone <= t))
            if not ok.any():
                continue
            w = weight * ok
            contacts[j] = ids[int(rng.choice(len(ids), p=w / w.sum()))]
    return np.asarray(contacts)


def _conversion_known(
    deals: pd.DataFrame, account: str, signup: pd.Timestamp, end: pd.Timestamp, horizon: int
) -> tuple[bool, bool]:
    """(converted, label known) as the PLG analysis defines them."""
    limit = signup + pd.Timedelta(days=horizon)
    mine = deals[deals["account_id"] == account]
    converted = bool(
        (
            (mine["outcome"] == "won")
            & (mine["created_at"] >= signup.normalize())
            & (mine["closed_at"] <= limit)
        ).any()
    )
    return converted, converted or limit <= end


def usage(deals: pd.DataFrame, *, seed: int, as_of: dt.date) -> pd.DataFrame:
    """Product usage: PLG accounts before their product-led deal, sales-led accounts that tried the
    product first (planted by segment), and recent trials with no deal yet."""
    rng = np.random.default_rng(seed + USAGE_SEED_OFFSET)
    end = pd.Timestamp(as_of)
    horizon = int(PLANTED_PLG["horizon_days"])  # type: ignore[call-overload]
    ordered = deals.sort_values(["created_at", "deal_id"])
    signups: dict[str, pd.Timestamp] = {}
    for row in (
        ordered[ordered["source"] == "product-led"].drop_duplicates("account_id").itertuples()
    ):
        signups[row.account_id] = row.created_at - pd.Timedelta(days=int(rng.integers(5, 61)))
    plg_accounts = set(signups)
    first_sales = ordered[~ordered["account_id"].isin(plg_accounts)].drop_duplicates("account_id")
    effects: dict[str, float] = PLANTED_PLG["prior_usage_effect"]  # type: ignore[assignment]
    beta = first_sales["segment"].map(effects).fillna(0.0).to_numpy()
    used = _given_outcome(
        rng,
        0.4,
        beta,
        (first_sales["outcome"] == "won").to_numpy(),
        (first_sales["outcome"] != "open").to_numpy(),
    )
    for row in first_sales[used].itertuples():
        signups[row.account_id] = row.created_at - pd.Timedelta(days=int(rng.integers(10, 91)))
    quiet = deals.groupby("account_id")["created_at"].max()
    customers = set(deals.loc[deals["outcome"] == "won", "account_id"])
    # recent trials: accounts quiet for 4 months and not customers (a customer's usage is post-sale)
    quiet = quiet[
        (quiet < end - pd.Timedelta(days=120))
        & ~quiet.index.isin(list(signups))
        & ~quiet.index.isin(list(customers))
    ]
    trials = (
        rng.choice(
            quiet.index.to_numpy(), min(len(quiet), max(8, len(deals) // 100)), replace=False
        )
        if len(quiet)
        else np.array([], dtype=object)
    )
    for account in trials:
        signups[str(account)] = end - pd.Timedelta(days=int(rng.integers(3, 41)))

    rows: list[tuple[object, ...]] = []
    users_needed = int(PLANTED_PLG["milestone_users"])  # type: ignore[call-overload]
    window = int(PLANTED_PLG["milestone_days"])  # type: ignore[call-overload]
    for account, signup in sorted(signups.items()):
        converted, known = _conversion_known(deals, account, signup, end, horizon)
        met = _given_outcome(
            rng,
            0.35,
            float(PLANTED_PLG["milestone_effect"]),  # type: ignore[arg-type]
            np.array([converted]),
            np.array([known]),
        )[0]
        early = (
            (users_needed + int(min(rng.poisson(0.8), 4))) if met else 1 + int(rng.random() < 0.5)
        )
        late = int(rng.poisson(1.0 if met else 1.2))
        days = (
            [0]
            + list(rng.integers(0, window, early - 1))
            + list(rng.integers(window + 1, 46, late))
        )
        for u, first_day in enumerate(days):
            t = signup + pd.Timedelta(
                days=int(first_day), hours=int(rng.integers(8, 18)), minutes=u
            )
            if t > end:
                continue
            uid = f"{account}-U{u + 1}"
            rows.append((account, uid, "signup", t))
            if rng.random() < 0.75:
                rows.append(
                    (
                        account,
                        uid,
                        "activated",
                        t + pd.Timedelta(days=int(rng.integers(0, 3)), hours=1),
                    )
                )
            for m in range(int(rng.poisson(1.5))):
                rows.append(
                    (account, uid, "report_shared", t + pd.Timedelta(days=3 + 7 * m, hours=2))
                )
            if u == 0 and len(days) > 1:
                rows.append((account, uid, "invited_user", t + pd.Timedelta(days=1)))
    frame = pd.DataFrame(rows, columns=["account_id", "user_id", "event", "occurred_at"])
    frame = frame[frame["occurred_at"] <= end]
    return frame.drop_duplicates(["account_id", "user_id", "event", "occurred_at"]).reset_index(
        drop=True
    )
