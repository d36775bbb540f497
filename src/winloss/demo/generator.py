"""The demo company behind ``winloss demo``: seeded, realistic, with known planted patterns.

*Northwind Analytics* sells a B2B analytics platform. By default ≈3,000 deals are created over eight
quarters ending at ``as_of`` (2026-09-30), with ≈10 % still open at that date. Every table of the data
model is generated: deals with SPICED fields, stakeholders, activities, stage history,
subscriptions, usage events and win/loss captures.

Planted patterns (log-odds effects on winning; everything else is noise):

==========================================  ============  =========================================
condition                                   effect        how it shows
==========================================  ============  =========================================
critical event ≤ 120 days after creation    +1.1          a discovered threshold near 120 days
no critical event recorded                  −0.6          missingness is itself a finding
fewer than 2 stakeholders                   −1.0          a discovered threshold ``stakeholders < 2``
champion hired ≤ 180 days before creation   +0.9          newly hired champions want to make a mark
pain_category = ux                          −0.9          "we lose when UX is the main pain"
decision maker engaged                      +0.7
criteria co-created with us                 +0.5
source = referral                           +0.6
source = product-led in Enterprise          −1.2          an interaction: PLG helps SMB, not Enterprise
source = product-led in SMB                 +0.6
strategic importance high                   +0.3
==========================================  ============  =========================================

Noise: ``region``, ``industry``, ``product`` and the custom column ``lead_temperature`` have no effect.
Post-outcome fields behave as in real CRMs: won deals close faster (``cycle_days``), lost deals carry a
``loss_reason``, and captures are made days to weeks after the close.

Bowtie (``winloss bowtie``): lost deals drop out along the pipeline (the last stage reached before
Closed Lost is Prospecting 5 %, Qualification 8 %, Discovery 9 %, Demo 9 %, Proposal 9 %,
Negotiation 60 %), so every pre-sale stage converts below 100 %; each customer records post-sale
usage milestones (``onboarded`` for 90 % of retained and 60 % of churned customers; ``first_value``
for 80 % of customers who later expand, 25–90 days after the start, vs 45 % of the others, 30–200
days): the growth loop shows delivered impact going with expansion. Subscriptions churn about 4 %
of customers a quarter and expand 12 %, so GRR, NRR and the retention curve are all defined, and
lost accounts come back with new deals (the nurture loop).

Planted path effects (activities; association by construction, for ``winloss paths`` and
``winloss next-action``): the type sequence of a deal is drawn given its outcome, from a second,
separate random stream (so every other table is unchanged):

==========================================  =========================================================
path effect                                 how it is planted
==========================================  =========================================================
a demo before the discovery call loses      35 % of lost deals (5 % of won, 20 % of open) open with
                                            email > demo > discovery call; the lost ones stall there:
                                            their path ends after the discovery call
an executive meeting in Enterprise wins     70 % of won Enterprise deals have an executive meeting
                                            right before the final proposal; 15 % of lost (40 % of
                                            open) Enterprise deals have one somewhere in the middle;
                                            other segments keep the background rate (10 % per action)
==========================================  =========================================================

Both are local in the path (what comes right after the action differs by outcome), so a Markov
chain can see them: ``winloss next-action`` ranks the executive meeting higher in Enterprise than
elsewhere, and an order-2 chain gives ``email > demo`` a lower P(win) than ``email > call``.

Buying committees and product usage (:mod:`winloss.demo.committees_and_usage`; drawn given each
closed deal's outcome, so the odds ratios below hold exactly and the deal-level effects above stay):

==========================================  ============  =========================================
committee / usage fact                      effect        how it shows
==========================================  ============  =========================================
fewer than 2 engaged stakeholders           −1.0          (the deal-level effect above, now from
                                                          the stakeholders table) threshold ``< 2``
decision maker on the committee             +0.7          role coverage (deal-level effect above)
champion hired ≤ 180 days before creation   +0.9          from the champion's start_date
route to the decision maker, SMB            direct +1.0,  direct wins most in SMB
                                            champion 0
route to the decision maker, Enterprise     champion      through the champion wins most in
                                            +1.2, direct  Enterprise (Mid-Market: champion +0.8)
                                            −0.4
decision maker reached after day 30         −1.5          a discovered timing threshold near 30 d
champion left the customer mid-deal         −1.3          ``left_at`` inside the deal
≥ 3 active users within 14 days of the      +1.6          conversion (a won deal created after the
first usage event                                         first event, closed within 180 days)
sales-led deal at an account that used the  SMB +0.9,     the PLG × segment interaction on the
product in the 180 days before              MM 0, Ent     other motions (planted on the first
                                            −1.2          sales-led deal of 40 % of accounts)
==========================================  ============  =========================================

30 % of the decision makers' recorded routes are blank (derived from ``introduced_by`` and the
engagement timeline); route spellings vary ("top-down", "through champion", "customer intro", …).

Data-quality defects planted for the audit: two reps leave most SPICED fields blank; a few industry
values are misspelt ("helthcare", "fintec"); some deals are created already
closed; some close dates are pushed three or more times; captures of one rep come late; on deals
with a single listed contact (the champion) the rep's capture can say the decision maker was engaged
although no decision maker is on the stakeholder list — the meeting happened, the contact was never
added — which ``winloss committee`` reports as a disagreement between the two sources.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

AS_OF = dt.date(2026, 9, 30)

SEGMENTS = np.array(["SMB", "Mid-Market", "Enterprise"])
REGIONS = np.array(["North America", "EMEA", "APAC", "LATAM"])
INDUSTRIES = np.array(["software", "fintech", "healthcare", "retail", "manufacturing", "education"])
PRODUCTS = np.array(["Core", "Analytics", "Platform"])
SOURCES = np.array(["inbound", "outbound", "referral", "partner", "product-led", "event"])
PAINS = np.array(["technology", "process", "ux", "cost", "compliance"])
CONSEQUENCES = {
    "technology": "missed deadline",
    "process": "missed financial goal",
    "ux": "ux complaints",
    "cost": "missed financial goal",
    "compliance": "missed deadline",
}
IMPACTS = np.array(["increase revenue", "reduce cost", "improve customer experience"])
TITLES = np.array(
    ["VP Sales", "Head of RevOps", "CFO", "IT Director", "Sales Manager", "COO", "Head of Data"]
)
OWNERS = np.array(
    [
        "Ava Chen",
        "Ben Okafor",
        "Carla Ruiz",
        "Dev Patel",
        "Emma Larsen",
        "Felix Wagner",
        "Grace Kim",
        "Hugo Martin",
        "Isla Brown",
        "Jonas Berg",
        "Kira Novak",
        "Leo Rossi",
    ]
)
SLOPPY_OWNERS = ("Hugo Martin", "Leo Rossi")  # leave SPICED fields blank
LATE_CAPTURE_OWNER = "Kira Novak"
LOSS_REASONS = np.array(
    ["Price", "No decision", "Lost to competitor", "Timing", "Missing features"]
)
WIN_REASONS = np.array(["Product fit", "Relationship", "Price", "Time to value"])
COMPETITORS = np.array(["Tableau", "Looker", "Power BI", "In-house", ""])
STAGES = ["Prospecting", "Qualification", "Discovery", "Demo", "Proposal", "Negotiation"]
ACTIONS = np.array(
    ["email", "call", "discovery call", "demo", "proposal", "trial", "executive meeting"]
)

#: The planted log-odds effects (see the module docstring); tests check the analyses find them.
PLANTED = {
    "critical_event_within_days": 120,
    "stakeholders_below": 2,
    "champion_new_within_days": 180,
}


@dataclass(frozen=True)
class DemoData:
    """All tables of a demo company, in canonical column names."""

    deals: pd.DataFrame
    stakeholders: pd.DataFrame
    activities: pd.DataFrame
    stage_history: pd.DataFrame
    subscriptions: pd.DataFrame
    usage_events: pd.DataFrame
    captures: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "deals": self.deals,
            "stakeholders": self.stakeholders,
            "activities": self.activities,
            "stage_history": self.stage_history,
            "subscriptions": self.subscriptions,
            "usage_events": self.usage_events,
            "captures": self.captures,
        }


def _quarters_back(as_of: dt.date, quarters: int) -> dt.date:
    """First day of the calendar quarter ``quarters - 1`` quarters before the one holding as_of."""
    index = as_of.year * 4 + (as_of.month - 1) // 3 - (quarters - 1)
    return dt.date(index // 4, (index % 4) * 3 + 1, 1)


def _blank(n: int) -> np.ndarray:
    """An object array of missing values (the other branch of a ``np.where``)."""
    return np.full(n, None, dtype=object)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


def generate_deals(
    n: int = 3000, *, seed: int = 7, as_of: dt.date = AS_OF, quarters: int = 8, defects: bool = True
) -> pd.DataFrame:
    """Generate ``n`` deals (vectorised; 1M deals take seconds) with the planted patterns."""
    rng = np.random.default_rng(seed)
    end = np.datetime64(as_of)
    first_quarter_start = np.datetime64(_quarters_back(as_of, quarters))
    # Deals are created from a few months before the first quarter so that every quarter's closes
    # mix short and long cycles; deals that closed before the first quarter are dropped.
    n_wanted = n
    n = int(n * 1.3) + 50
    lead_in = 150
    span = int((end - first_quarter_start).astype(int)) + lead_in
    created = end - rng.integers(20, span, n).astype("timedelta64[D]")
    segment = rng.choice(SEGMENTS, n, p=[0.45, 0.35, 0.20])
    region = rng.choice(REGIONS, n, p=[0.45, 0.30, 0.15, 0.10])
    industry = rng.choice(INDUSTRIES, n)
    product = rng.choice(PRODUCTS, n, p=[0.5, 0.3, 0.2])
    source = rng.choice(SOURCES, n, p=[0.32, 0.28, 0.12, 0.10, 0.12, 0.06])
    owner = rng.choice(OWNERS, n)
    seg_scale = np.select([segment == "SMB", segment == "Mid-Market"], [9_000, 35_000], 140_000)
    amount = np.round(seg_scale * rng.lognormal(0, 0.5, n), -2)
    has_ce = rng.random(n) < 0.72
    days_to_ce = rng.integers(10, 360, n)
    tenure = np.round(rng.exponential(700, n)).astype(int) + 5
    stakeholders = np.clip(
        rng.poisson(np.select([segment == "SMB", segment == "Mid-Market"], [1.6, 2.6], 3.8)), 1, 12
    )
    pain = rng.choice(PAINS, n, p=[0.28, 0.26, 0.18, 0.16, 0.12])
    dm_engaged = rng.random(n) < np.clip(0.25 + 0.1 * stakeholders, 0, 0.85)
    co_created = rng.random(n) < 0.4
    importance = rng.choice(np.array(["low", "medium", "high"]), n, p=[0.25, 0.45, 0.30])
    temperature = rng.choice(np.array(["hot", "warm", "cold"]), n)  # noise custom column

    logit = np.full(n, -1.35)
    logit += np.where(has_ce, np.where(days_to_ce <= 120, 1.1, 0.0), -0.6)
    logit += np.where(stakeholders < 2, -1.0, 0.0)
    logit += np.where(tenure <= 180, 0.9, 0.0)
    logit += np.where(pain == "ux", -0.9, 0.0)
    logit += np.where(dm_engaged, 0.7, 0.0)
    logit += np.where(co_created, 0.5, 0.0)
    logit += np.where(source == "referral", 0.6, 0.0)
    plg = source == "product-led"
    logit += np.where(plg & (segment == "Enterprise"), -1.2, 0.0)
    logit += np.where(plg & (segment == "SMB"), 0.6, 0.0)
    logit += np.where(importance == "high", 0.3, 0.0)
    won = rng.random(n) < _sigmoid(logit)

    cycle = np.round(np.where(won, rng.gamma(3.0, 22, n), rng.gamma(3.0, 30, n))).astype(int) + 7
    cycle = cycle * np.select([segment == "SMB", segment == "Mid-Market"], [1, 1.5], 2.2)
    cycle = np.round(cycle).astype(int)
    closed = created + cycle.astype("timedelta64[D]")
    is_open = closed > end
    outcome = np.where(is_open, "open", np.where(won, "won", "lost"))
    created_ts = pd.to_datetime(created)
    ids = np.char.add("D-", np.char.zfill(np.arange(1, n + 1).astype(str), 6))
    accounts = rng.integers(1, max(2, n // 3), n)
    account_id = np.char.add("A-", np.char.zfill(accounts.astype(str), 5))

    deals = pd.DataFrame(
        {
            "deal_id": ids,
            "account_id": account_id,
            "account_name": np.char.add("Account ", accounts.astype(str)),
            "owner": owner,
            "created_at": created_ts,
            # open deals carry their expected close date, as CRMs do (Salesforce CloseDate)
            "closed_at": pd.to_datetime(closed),
            "outcome": outcome,
            "stage": np.where(
                is_open, rng.choice(np.array(STAGES), n), np.where(won, "Closed Won", "Closed Lost")
            ),
            "amount": amount,
            "currency": "USD",
            "segment": segment,
            "region": region,
            "industry": industry,
            "product": product,
            "source": source,
            "introduced_by": np.select(
                [source == "referral", source == "partner", source == "event"],
                ["customer", "partner", "event"],
                "none",
            ),
            "champion_title": rng.choice(TITLES, n),
            "champion_start_date": created_ts - pd.to_timedelta(tenure, unit="D"),
            "pain_category": pain,
            "pain_consequence": pd.Series(pain).map(CONSEQUENCES).to_numpy(),
            "impact_type": rng.choice(IMPACTS, n),
            "impact_value": np.round(amount * rng.uniform(2, 8, n), -2),
            "strategic_importance": importance,
            "critical_event": np.where(
                has_ce,
                rng.choice(
                    np.array(
                        [
                            "board review",
                            "fiscal year end",
                            "system sunset",
                            "audit",
                            "product launch",
                        ]
                    ),
                    n,
                ),
                _blank(n),
            ),
            "critical_event_date": pd.to_datetime(
                np.where(
                    has_ce, created + days_to_ce.astype("timedelta64[D]"), np.datetime64("NaT")
                )
            ),
            "decision_criteria": rng.choice(
                np.array(["price", "integration", "ease of use", "security", "time to value"]), n
            ),
            "criteria_co_created": co_created,
            "stakeholders": stakeholders,
            "decision_maker_engaged": dm_engaged,
            "loss_reason": np.where(outcome == "lost", rng.choice(LOSS_REASONS, n), _blank(n)),
            "win_reason": np.where(outcome == "won", rng.choice(WIN_REASONS, n), _blank(n)),
            "competitor": np.where(is_open, _blank(n), rng.choice(COMPETITORS, n)),
            "lead_temperature": temperature,
        }
    )
    deals["competitor"] = deals["competitor"].replace("", None)
    fresh = np.round(rng.exponential(6, n)).astype(int) + 1
    fresh = np.where(owner == LATE_CAPTURE_OWNER, fresh + 40, fresh)
    deals["captured_at"] = deals["closed_at"] + pd.to_timedelta(fresh, unit="D")
    deals.loc[(deals["captured_at"] > pd.Timestamp(as_of)).to_numpy() | is_open, "captured_at"] = (
        pd.NaT
    )
    in_window = ~(deals["closed_at"] < pd.Timestamp(first_quarter_start)).to_numpy()
    deals = deals[in_window].head(n_wanted).reset_index(drop=True)
    deals["deal_id"] = np.char.add("D-", np.char.zfill(np.arange(1, len(deals) + 1).astype(str), 6))
    n = len(deals)
    rng = np.random.default_rng(seed + 1000)
    if defects:
        _plant_defects(deals, rng)
    return deals


def _plant_defects(deals: pd.DataFrame, rng: np.random.Generator) -> None:
    n = len(deals)
    sloppy = deals["owner"].isin(SLOPPY_OWNERS).to_numpy() & (rng.random(n) < 0.7)
    for col in (
        "champion_title",
        "champion_start_date",
        "pain_category",
        "pain_consequence",
        "impact_type",
        "impact_value",
        "critical_event",
        "decision_criteria",
    ):
        deals.loc[sloppy, col] = None
    typo = rng.random(n) < 0.01
    deals.loc[typo & (deals["industry"] == "healthcare").to_numpy(), "industry"] = "helthcare"
    deals.loc[typo & (deals["industry"] == "fintech").to_numpy(), "industry"] = "fintec"
    created_closed = (rng.random(n) < 0.008) & (deals["outcome"] != "open").to_numpy()
    deals.loc[created_closed, "created_at"] = deals.loc[created_closed, "closed_at"]


def _people(deals: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows: list[tuple[object, ...]] = []
    roles_pool = ["influencer", "user", "economic_buyer", "blocker", "other"]
    routes = [
        "direct",
        "through champion",
        "customer introduction",
        "partner introduction",
        "consensus across threads",
    ]
    for d in deals.itertuples(index=False):
        k = int(d.stakeholders)
        created = d.created_at
        for j in range(k):
            if j == 0:
                role, title = "champion", d.champion_title
            elif j == 1 and d.decision_maker_engaged:
                role, title = "decision_maker", rng.choice(["CEO", "CFO", "COO", "CRO"])
            else:
                role, title = (
                    rng.choice(roles_pool),
                    rng.choice(["Analyst", "Manager", "Director", "Engineer", "Procurement"]),
                )
            engaged = created + pd.Timedelta(days=int(rng.integers(0, 40)))
            rows.append(
                (
                    d.deal_id,
                    f"{d.deal_id}-C{j + 1}",
                    f"Contact {j + 1} of {d.deal_id}",
                    title,
                    role,
                    "c-level" if role == "decision_maker" else "manager",
                    None,
                    engaged,
                    "direct" if j == 0 else rng.choice(routes),
                )
            )
    return pd.DataFrame(
        rows,
        columns=[
            "deal_id",
            "contact_id",
            "name",
            "title",
            "role",
            "seniority",
            "start_date",
            "engaged_at",
            "reached_via",
        ],
    )


#: Planted path effects (see the module docstring): P(effect | won), P(effect | lost), P(| open).
PATH_EFFECTS = {
    "demo_before_discovery": (0.05, 0.35, 0.20),
    "enterprise_executive_meeting": (0.70, 0.15, 0.40),
}


def _plant_path_effects(
    path: list[str], outcome: str, segment: str, fx: np.random.Generator
) -> list[str]:
    """Apply :data:`PATH_EFFECTS` to one deal's action types; returns the (maybe shorter) path."""
    column = {"won": 0, "lost": 1}.get(outcome, 2)
    if fx.random() < PATH_EFFECTS["demo_before_discovery"][column]:
        path[1] = "demo"
        if outcome == "lost":
            path = path[:3]
    if (
        segment == "Enterprise"
        and fx.random() < PATH_EFFECTS["enterprise_executive_meeting"][column]
    ):
        if outcome == "won":
            path[-2] = "executive meeting"
        elif len(path) > 4:
            path[int(fx.integers(3, len(path) - 1))] = "executive meeting"
    return path


def _activities_and_stages(
    deals: pd.DataFrame,
    rng: np.random.Generator,
    as_of: dt.date,
    drop_rng: np.random.Generator | None = None,
    path_rng: np.random.Generator | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if drop_rng is None:
        drop_rng = np.random.default_rng(BOWTIE_SEED_OFFSET)
    fx = path_rng if path_rng is not None else np.random.default_rng(0)
    acts: list[tuple[object, ...]] = []
    stages: list[tuple[object, ...]] = []
    end = pd.Timestamp(as_of)
    for d in deals.itertuples(index=False):
        start = d.created_at
        stop = d.closed_at if d.outcome != "open" else end
        length = max(1, int((stop - start).days))
        won = d.outcome == "won"
        k = int(rng.integers(3, 9)) + (3 if won else 0)
        days = np.sort(rng.integers(0, length + 1, k))
        path = ["email", "call", "discovery call"] + list(
            rng.choice(ACTIONS, k - 3, p=[0.25, 0.2, 0.05, 0.2, 0.1, 0.1, 0.1])
        )
        if won:
            path[-1] = "proposal"
        path = _plant_path_effects(path, str(d.outcome), str(d.segment), fx)
        for j, day in enumerate(days):
            hour = int(rng.integers(8, 18))  # drawn for every day: the other tables stay the same
            if j < len(path):
                acts.append(
                    (
                        f"{d.deal_id}-A{j + 1}",
                        d.deal_id,
                        f"{d.deal_id}-C1",
                        path[j],
                        start + pd.Timedelta(days=int(day), hours=hour),
                        "outbound" if j % 3 else "inbound",
                        "completed",
                    )
                )
        reached = len(STAGES) if d.outcome != "open" else STAGES.index(d.stage) + 1
        seq = [s for s in STAGES[:reached] if not (s == "Demo" and rng.random() < 0.1)]
        if d.outcome != "open":
            seq.append("Closed Won" if won else "Closed Lost")
        times = np.sort(rng.integers(0, length + 1, len(seq)))
        times[0] = 0
        if d.outcome != "open":
            times[-1] = length
        if d.outcome == "lost":
            # Bowtie: lost deals drop out along the funnel (their own generator, so every other
            # table keeps its random stream): the stages kept, then Closed Lost at the close
            keep = _lost_stages_kept(drop_rng, len(seq) - 1)
            seq = seq[:keep] + seq[-1:]
            times = np.concatenate([times[:keep], times[-1:]])
        close_date = (d.closed_at + pd.Timedelta(days=int(rng.integers(0, 30)))).normalize()
        pushes = 3 if rng.random() < 0.05 else 0
        for j, (stage, t) in enumerate(zip(seq, times, strict=True)):
            shown = (
                close_date - pd.Timedelta(days=30 * max(0, pushes - j)) if pushes else close_date
            )
            stages.append(
                (d.deal_id, stage, start + pd.Timedelta(days=int(t), minutes=j), shown, d.amount)
            )
    activities = pd.DataFrame(
        acts,
        columns=[
            "activity_id",
            "deal_id",
            "contact_id",
            "type",
            "occurred_at",
            "direction",
            "outcome",
        ],
    )
    history = pd.DataFrame(
        stages, columns=["deal_id", "stage", "entered_at", "close_date", "amount"]
    )
    return activities, history


#: where lost deals drop out: P(last stage reached = k stages) for k = 1..6 (Prospecting … Negotiation)
LOST_DROP_OUT = (0.05, 0.08, 0.09, 0.09, 0.09, 0.60)
BOWTIE_SEED_OFFSET = 1_000_003


def _lost_stages_kept(rng: np.random.Generator, available: int) -> int:
    """How many pipeline stages a lost deal went through before Closed Lost (at least one)."""
    k = int(rng.choice(np.arange(1, len(LOST_DROP_OUT) + 1), p=LOST_DROP_OUT))
    return max(1, min(k, available))


def _milestones(subscriptions: pd.DataFrame, seed: int, as_of: dt.date) -> pd.DataFrame:
    """Post-sale usage milestones of every customer: ``onboarded`` and ``first_value``.

    Planted (Bowtie growth loop): customers who later expand record a first value in 80 % of
    cases, 25–90 days after the start; others in 45 %, 30–200 days after; churned customers reach
    onboarding less often (60 % vs 90 %). Milestones after a churn or after ``as_of`` are dropped.
    """
    rng = np.random.default_rng(seed + BOWTIE_SEED_OFFSET)
    end = pd.Timestamp(as_of)
    rows: list[tuple[object, ...]] = []
    for account, subs in subscriptions.groupby("account_id", sort=True):
        start = pd.Timestamp(subs["period_start"].min())
        churn = subs.loc[subs["event"] == "churn", "period_start"]
        stop = min(pd.Timestamp(churn.min()) if len(churn) else end, end)
        expands = bool((subs["event"] == "expansion").any())
        user = f"{account}-CS1"
        if rng.random() < (0.6 if len(churn) else 0.9):
            t = start + pd.Timedelta(days=int(rng.integers(7, 61)), hours=10)
            if t <= stop:
                rows.append((account, user, "onboarded", t))
        if rng.random() < (0.8 if expands else 0.45):
            days = int(rng.integers(25, 91)) if expands else int(rng.integers(30, 201))
            t = start + pd.Timedelta(days=days, hours=11)
            if t <= stop:
                rows.append((account, user, "first_value", t))
    return pd.DataFrame(rows, columns=["account_id", "user_id", "event", "occurred_at"])


def _subscriptions(deals: pd.DataFrame, rng: np.random.Generator, as_of: dt.date) -> pd.DataFrame:
    rows: list[tuple[object, ...]] = []
    won = deals[deals["outcome"] == "won"].sort_values("closed_at")
    first = won.drop_duplicates("account_id")
    end = pd.Timestamp(as_of)
    for d in first.itertuples(index=False):
        mrr = round(float(d.amount) / 12, 2)
        start = d.closed_at.normalize()
        rows.append((d.account_id, start, start + pd.DateOffset(months=3), mrr, "new"))
        period = start + pd.DateOffset(months=3)
        while period <= end:
            r = rng.random()
            if r < 0.04:
                rows.append((d.account_id, period, None, 0.0, "churn"))
                break
            if r < 0.16:
                mrr = round(mrr * rng.uniform(1.1, 1.5), 2)
                event = "expansion"
            elif r < 0.20:
                mrr = round(mrr * rng.uniform(0.6, 0.9), 2)
                event = "contraction"
            else:
                event = "renewal"
            rows.append((d.account_id, period, period + pd.DateOffset(months=3), mrr, event))
            period = period + pd.DateOffset(months=3)
    return pd.DataFrame(rows, columns=["account_id", "period_start", "period_end", "mrr", "event"])


def _captures(deals: pd.DataFrame) -> pd.DataFrame:
    closed = deals[(deals["outcome"] != "open") & deals["captured_at"].notna()]
    cap = closed[
        [
            "deal_id",
            "captured_at",
            "source",
            "introduced_by",
            "champion_title",
            "champion_start_date",
            "pain_category",
            "pain_consequence",
            "impact_type",
            "impact_value",
            "strategic_importance",
            "critical_event",
            "critical_event_date",
            "decision_criteria",
            "criteria_co_created",
            "stakeholders",
            "decision_maker_engaged",
        ]
    ].copy()
    cap.insert(2, "respondent", "rep")
    cap["primary_reason"] = closed["loss_reason"].fillna(closed["win_reason"])
    cap["notes"] = None
    return cap


def generate_demo(n_deals: int = 3000, *, seed: int = 7, as_of: dt.date = AS_OF) -> DemoData:
    """Generate the demo company: every table, seeded."""
    from winloss.demo.committees_and_usage import committees, usage

    rng = np.random.default_rng(seed + 1)
    deals = generate_deals(n_deals, seed=seed, as_of=as_of)
    activities, history = _activities_and_stages(
        deals,
        rng,
        as_of,
        np.random.default_rng(seed + BOWTIE_SEED_OFFSET + 1),
        path_rng=np.random.default_rng(seed + 2000),
    )
    people = _people(deals, rng)
    subscriptions = _subscriptions(deals, rng, as_of)
    # committee details and usage draw from their own seeded generators (the tables above keep
    # their draws); see winloss.demo.committees_and_usage for the planted effects
    stakeholders, activities = committees(deals, people, activities, seed=seed, as_of=as_of)
    return DemoData(
        deals=deals,
        stakeholders=stakeholders,
        activities=activities,
        stage_history=history,
        subscriptions=subscriptions,
        usage_events=pd.concat(
            [usage(deals, seed=seed, as_of=as_of), _milestones(subscriptions, seed, as_of)],
            ignore_index=True,
        ),
        captures=_captures(deals),
    )
