"""Account targeting: rank accounts by fit to the deals we win (ICP) and by expansion potential.

*Fit* is the calibrated P(win) of a deal at the account, from a win model restricted to attributes
of the account (:data:`winloss.analyze.scoring.features.ACCOUNT_FIELDS` and custom fields that are
constant within accounts), with a bootstrap interval, its lift over the overall win rate and the
attributes that raise it. The fit is then shrunk toward the overall win rate by the evidence behind
the account's profile (an m-estimate): with ``n`` closed deals sharing the account's rarest category
value, ``fit = (n · p + m · base rate) / (n + m)`` with ``m =`` :data:`SHRINK_M` — a value seen on 5
deals (a typo such as "fintec") moves the fit a fifth of the way from the base rate, one seen on 500
almost all the way. Equal fits are ordered by that evidence, then by won amount.

*Expansion potential* applies to customers (accounts with a won deal): the products this customer
has not bought (white space), each weighted by its adoption among the customer's segment peers
(shrunk toward the adoption among all customers, m = :data:`PEER_M` customers) and valued at the
product's median won amount scaled by the customer's own size (its median won amount over the
overall median, shrunk toward 1 with m = :data:`SIZE_M` won deals). Without a product field it is the
repeat-purchase rate times the median won amount, scaled the same way. Where the store holds
subscriptions, current MRR and its change over the last year are shown beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import numpy as np
import pandas as pd

from winloss.analyze.base import AnalysisInputs, AnalysisResult
from winloss.analyze.scoring.analysis import ModelSettings, WinModel, no_field_helps, phrase
from winloss.analyze.scoring.features import ACCOUNT_FIELDS, NEVER_PREDICTORS
from winloss.errors import InsufficientDataError
from winloss.serialize import records

if TYPE_CHECKING:
    from winloss.model.deals import DealSource

#: A field is an account attribute when it is constant within at least this share of accounts.
CONSTANT_SHARE = 0.9
#: Tier A from this lift of fit over the overall win rate; tier C below :data:`TIER_C`.
TIER_A = 1.25
TIER_C = 0.8
#: Prior weight (in closed deals) of the base rate in the shrunk fit.
SHRINK_M = 20.0
#: Prior weight (in customers) of the overall adoption of a product in its peer adoption.
PEER_M = 10.0
#: Prior weight (in won deals) of the overall median deal size in a customer's size factor.
SIZE_M = 3.0
#: Fields that define segment peers for expansion, first present wins.
PEER_FIELDS = ("segment", "industry", "region")


def account_key(deals: pd.DataFrame) -> str:
    """``account_id`` when present, else ``account_name``."""
    for key in ("account_id", "account_name"):
        if key in deals.columns and deals[key].notna().any():
            return key
    raise InsufficientDataError(
        "account targeting needs an account id or name on the deals; "
        "map a column to account_id or account_name when importing"
    )


def account_level_fields(
    deals: pd.DataFrame, catalog: list[Any], key: str, share: float = CONSTANT_SHARE
) -> tuple[list[str], list[str]]:
    """Fields constant within accounts (account attributes), and candidates that are not."""
    multi = deals[deals[key].notna()]
    multi = multi[multi.groupby(key)[key].transform("size") >= 2]
    constant: list[str] = []
    varying: list[str] = []
    for f in catalog:
        if (
            f.known != "before"
            or not f.analyse
            or f.name in NEVER_PREDICTORS
            or f.name not in deals.columns
            or deals[f.name].notna().sum() == 0
        ):
            continue
        if f.origin != "custom" and f.name not in ACCOUNT_FIELDS:
            continue
        if multi.empty:
            constant.append(f.name)
            continue
        distinct = multi.groupby(key)[f.name].nunique(dropna=True)
        (constant if float((distinct <= 1).mean()) >= share else varying).append(f.name)
    return constant, varying


def _mode(s: pd.Series) -> Any:
    m = s.dropna().mode()
    return m.iloc[0] if len(m) else None


@dataclass(frozen=True)
class TargetingResult(AnalysisResult):
    """Accounts ranked by fit or expansion potential, with the ICP model behind the fit."""

    accounts: pd.DataFrame
    rank_by: str
    base_rate: float
    profile_fields: tuple[str, ...]
    importances: pd.DataFrame
    model: dict[str, Any]
    inputs: AnalysisInputs
    caveats: tuple[str, ...] = ()

    @property
    def summary(self) -> pd.DataFrame:
        return self.accounts

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank_by": self.rank_by,
            "base_rate": self.base_rate,
            "profile_fields": list(self.profile_fields),
            "accounts": records(self.accounts),
            "importances": records(self.importances),
            "model": self.model,
            "inputs": self.inputs.to_dict(),
            "caveats": list(self.caveats),
        }


class TargetingOptions(TypedDict, total=False):
    """Keyword settings of :class:`AccountTargeting`."""

    rank_by: Literal["fit", "expansion"]
    settings: ModelSettings


@dataclass(frozen=True)
class AccountTargeting:
    """Rank accounts by ideal-customer-profile fit and by expansion potential.

    Parameters
    ----------
    rank_by
        ``fit`` or ``expansion``.
    settings
        Settings of the fit model (``purpose`` is always ``account``).
    """

    rank_by: Literal["fit", "expansion"] = "fit"
    settings: ModelSettings = field(default_factory=lambda: ModelSettings(purpose="account"))

    def run(self, source: DealSource) -> TargetingResult:
        deals = source.deals()
        subscriptions = source.table("subscriptions")
        return self.run_frame(
            deals,
            source.field_catalog(),
            subscriptions=subscriptions,
            inputs={"store": getattr(source, "path", None)},
        )

    def run_frame(
        self,
        deals: pd.DataFrame,
        catalog: list[Any],
        *,
        subscriptions: pd.DataFrame | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> TargetingResult:
        """Rank the accounts of a frame of deals."""
        caveats: list[str] = []
        key = account_key(deals)
        missing = deals[key].isna() | (deals[key].astype("string").str.strip() == "")
        if missing.any():
            gone = deals[missing]
            caveats.append(
                f"{int(missing.sum()):,} deal(s) without an account "
                f"({int((gone['outcome'] == 'won').sum()):,} won, "
                f"{int((gone['outcome'] == 'lost').sum()):,} lost, "
                f"{int((gone['outcome'] == 'open').sum()):,} open) are not ranked and not in "
                "the fit model or its win rate; give them an account in the CRM to include them"
            )
        deals = deals[~missing].copy()
        deals[key] = deals[key].astype(str)
        constant, varying = account_level_fields(deals, catalog, key)
        profile_fields = constant or [f for f in ACCOUNT_FIELDS if f in varying]
        if not constant and profile_fields:
            caveats.append(
                f"{', '.join(profile_fields)} vary within accounts; each account's "
                "profile uses its most common value"
            )
        if not profile_fields:
            raise InsufficientDataError(
                "no account attribute to build a profile from: import segment, region, industry "
                "or account-level custom fields (e.g. employees, revenue)"
            )
        deals, typo_notes = read_typos(deals, profile_fields)
        caveats += typo_notes
        settings = replace(self.settings, purpose="account", account_level=tuple(profile_fields))
        closed = deals[deals["outcome"].isin(["won", "lost"])].reset_index(drop=True)
        model = WinModel(settings).fit(
            closed, catalog, open_deals=deals[deals["outcome"] == "open"]
        )
        assert model.choice is not None
        used = model.choice.names()
        profiles = deals.groupby(key).agg({f: _mode for f in used}).reset_index()
        stats = _account_stats(deals, key)
        pred = model.predict(profiles)
        table = stats.merge(profiles, on=key, how="left")
        evidence = profile_evidence(closed, profiles, model)
        weight = evidence / (evidence + SHRINK_M)

        def shrink(p: np.ndarray) -> np.ndarray:
            return np.asarray(weight * p + (1 - weight) * model.base_rate)

        table["icp_model"] = pred["probability"].to_numpy()
        table["icp_fit"] = shrink(table["icp_model"].to_numpy())
        table["fit_evidence"] = evidence
        if "ci_low" in pred:
            table["icp_low"] = shrink(pred["ci_low"].to_numpy())
            table["icp_high"] = shrink(pred["ci_high"].to_numpy())
        table["icp_lift"] = table["icp_fit"] / model.base_rate
        table["tier"] = np.select(
            [table["icp_lift"] >= TIER_A, table["icp_lift"] < TIER_C], ["A", "C"], "B"
        )
        if no_field_helps(model.importances):
            # tiers would rank on differences the held-out deals do not back (the demo gave 59
            # accounts tier A beside importances that all said "does not help")
            table["tier"] = ""
            caveats.append(
                "no account field predicts the outcome beyond chance on held-out deals: no "
                "tiers are given, and the differences in fit are not backed by evidence"
            )
        factors = model.explain(profiles, top=2)
        # a reason's points are shrunk as the fit is (the "+56 pts" of a 7-deal profile was the
        # model's own, beside a fit 14 points above the base rate)
        table["fit_reasons"] = [
            "; ".join(phrase({**f, "effect": f["effect"] * w}) for f in fx["for"])
            for fx, w in zip(factors, weight, strict=True)
        ]
        expansion, exp_caveat = _expansion(deals, key, profiles)
        if exp_caveat:
            caveats.append(exp_caveat)
        table = table.merge(expansion, on=key, how="left")
        table["expansion_potential"] = table["expansion_potential"].fillna(0.0)
        table["next_products"] = table["next_products"].fillna("")
        if subscriptions is not None and not subscriptions.empty and key == "account_id":
            table = table.merge(_mrr(subscriptions), on="account_id", how="left")
        order = (
            ["icp_fit", "fit_evidence", "won_amount"]
            if self.rank_by == "fit"
            else ["expansion_potential", "won_amount"]
        )
        table = table.sort_values(order, ascending=False, ignore_index=True, kind="stable")
        # accounts with the same score share a rank (1, 1, 3, …): the order within a tie is by
        # evidence and won revenue, which is no claim that one fits better than the other
        # (at the precision the score is shown: Maven's 85 accounts all read 0.6315 yet were
        # ranked 1 and 43 by differences in the seventh decimal)
        score = table[order[0]].round(4 if self.rank_by == "fit" else 0)
        table.insert(0, "rank", score.rank(method="min", ascending=False).astype(int))
        if len(table) > 1 and score.nunique() == 1:
            caveats.append(
                f"every account has the same {'fit' if self.rank_by == 'fit' else 'potential'} "
                f"({score.iloc[0]:.4g}): they all share rank 1 and the order shown is by "
                + (
                    "evidence and won revenue, not by fit"
                    if self.rank_by == "fit"
                    else "won revenue"
                )
            )
        elif len(table) > 1:
            tied = int(score.duplicated(keep=False).sum())
            if tied > len(table) / 2:
                caveats.append(
                    f"{tied:,} of {len(table):,} accounts share their score with another: tied "
                    "accounts share a rank, ordered within it by "
                    + ("evidence and won revenue" if self.rank_by == "fit" else "won revenue")
                )
        caveats += model.caveats
        return TargetingResult(
            accounts=table,
            rank_by=self.rank_by,
            base_rate=model.base_rate,
            profile_fields=tuple(used),
            importances=model.importances,
            model=model.describe(),
            inputs=AnalysisInputs.of(len(deals), accounts=len(table), key=key, **(inputs or {})),
            caveats=tuple(caveats),
        )


#: A profile value of at most this many deals, one edit from a value with at least
#: :data:`TYPO_RATIO` times as many, is read as that value (a likely misspelling).
TYPO_MAX_DEALS = 10
TYPO_RATIO = 3


def read_typos(deals: pd.DataFrame, fields: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Read rare misspellings of a profile field's frequent values as those values.

    A typo'd industry ("Techonlogy", 7 deals, all won) is a category of its own to a model: its
    accounts' fit is extreme and, even shrunk, tops the ranking. Targeting ranks accounts by
    profile, so a value of at most :data:`TYPO_MAX_DEALS` deals that the audit's vocabulary
    check finds one edit (or only case/spacing) away from a value with :data:`TYPO_RATIO` times
    as many deals is read as that value, and each such reading is said (the audit lists it for
    fixing in the CRM).
    """
    from winloss.analyze.audit.vocabulary_drift import column_variants

    notes: list[str] = []
    out = deals
    for name in fields:
        if name not in deals.columns:
            continue
        col = deals[name]
        if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
            continue
        counts = col.dropna().astype(str).value_counts()
        mapping = {
            v.value: v.suggested
            for v in column_variants(counts.to_dict())
            if v.suggested is not None
            and v.deals <= TYPO_MAX_DEALS
            and v.suggested_deals >= TYPO_RATIO * v.deals
            and v.distance <= 1
        }
        if not mapping:
            continue
        if out is deals:
            out = deals.copy()
        text = out[name].astype("string")
        out[name] = text.where(~text.isin(list(mapping)), text.map(mapping)).astype(object)
        said = ", ".join(
            f"'{a}' ({int(counts[a])} deal(s)) as '{b}'" for a, b in sorted(mapping.items())
        )
        notes.append(
            f"{name}: read {said} — likely misspellings, so that a handful of deals does not "
            "rank accounts as a category of its own; fix them in the CRM (winloss audit lists "
            "them)"
        )
    return out, notes


def _account_stats(deals: pd.DataFrame, key: str) -> pd.DataFrame:
    amount = pd.to_numeric(deals.get("amount"), errors="coerce").fillna(0.0)
    d = pd.DataFrame(
        {
            key: deals[key],
            "won": deals["outcome"] == "won",
            "lost": deals["outcome"] == "lost",
            "open": deals["outcome"] == "open",
        }
    )
    d["won_amount"] = np.where(d["won"], amount, 0.0)
    d["open_pipeline"] = np.where(d["open"], amount, 0.0)
    # an open deal without an amount makes the account's open pipeline unknown, not 0
    raw = pd.to_numeric(deals.get("amount"), errors="coerce")
    d["open_unknown"] = d["open"] & (raw.isna() if raw is not None else True)
    g = (
        d.groupby(key)
        .agg(
            deals=("won", "size"),
            won=("won", "sum"),
            lost=("lost", "sum"),
            open=("open", "sum"),
            won_amount=("won_amount", "sum"),
            open_pipeline=("open_pipeline", "sum"),
            open_unknown=("open_unknown", "any"),
        )
        .reset_index()
    )
    g["open_pipeline"] = g["open_pipeline"].where(~g.pop("open_unknown"))
    closed = g["won"] + g["lost"]
    g["win_rate"] = np.where(closed > 0, g["won"] / closed.where(closed > 0, 1), np.nan)
    if "account_name" in deals.columns and key != "account_name":
        names = deals.groupby(key)["account_name"].agg(_mode).reset_index()
        g = names.merge(g, on=key)
    return g


def profile_evidence(closed: pd.DataFrame, profiles: pd.DataFrame, model: WinModel) -> np.ndarray:
    """Per account, the closed deals sharing its rarest category value among the model's fields.

    Accounts whose profile has no categorical field get the number of closed deals (no shrinkage
    beyond the model's own).
    """
    assert model.choice is not None
    evidence = np.full(len(profiles), float(len(closed)))
    for p in model.choice.predictors:
        if p.kind != "category" or p.name not in closed.columns:
            continue
        counts = closed[p.name].astype("string").str.strip().value_counts()
        values = profiles[p.name].astype("string").str.strip()
        n = np.array(values.map(counts).astype(float).fillna(0.0), dtype=float)
        n[values.isna().to_numpy()] = float(closed[p.name].isna().sum())
        evidence = np.minimum(evidence, n)
    return evidence


def _size_factor(won: pd.DataFrame, key: str, amount: pd.Series) -> pd.Series:
    """Each customer's median won amount over the overall median, shrunk toward 1."""
    positive = amount.where(amount > 0)
    overall = float(positive.median()) if positive.notna().any() else 0.0
    if not overall > 0:
        return pd.Series(1.0, index=pd.Index(won[key].unique(), name=key))
    g = positive.groupby(won[key])
    ratio, k = (g.median() / overall).fillna(1.0), g.count()
    return (k * ratio + SIZE_M) / (k + SIZE_M)


def _expansion(
    deals: pd.DataFrame, key: str, profiles: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, str | None]:
    """White-space products of each customer, weighted by their adoption among segment peers and
    valued at the product's median won amount times the customer's size factor."""
    won = deals[deals["outcome"] == "won"]
    amount = pd.to_numeric(won.get("amount"), errors="coerce")
    customers = won[key].unique()
    if len(customers) == 0:
        return pd.DataFrame(
            {key: [], "expansion_potential": [], "next_products": []}
        ), "no won deals: no customer to expand"
    size = _size_factor(won, key, amount)
    if "product" not in won.columns or won["product"].isna().all():
        repeat = float((won.groupby(key).size() >= 2).mean())
        median = float(amount[amount > 0].median()) if (amount > 0).any() else 0.0
        return pd.DataFrame(
            {
                key: customers,
                "expansion_potential": [
                    repeat * median * float(size.get(c, 1.0)) for c in customers
                ],
                "next_products": "",
            }
        ), (
            "no product field: expansion potential = repeat-purchase rate × median won amount "
            "× the customer's size factor"
        )
    product = won["product"].astype("string").str.strip()
    owned = product.groupby(won[key]).agg(lambda s: set(s.dropna()))
    overall_adoption = won.groupby(product)[key].nunique() / len(customers)
    value = amount.where(amount > 0).groupby(product).median().fillna(0.0)
    peer_field = next(
        (
            f
            for f in PEER_FIELDS
            if profiles is not None and f in profiles.columns and profiles[f].notna().any()
        ),
        None,
    )
    peers: dict[Any, Any] = {}
    if peer_field is not None and profiles is not None:
        label = profiles.set_index(key)[peer_field].astype("string")
        peer_of = pd.Series(customers, index=customers).map(label)
        adopters = won.assign(_product=product).groupby("_product")[key].agg(set)
        for _label, members in peer_of.groupby(peer_of.fillna("(missing)")):
            ids = set(members.index)
            rates = {
                p: (len(adopters[p] & ids) + PEER_M * float(overall_adoption[p]))
                / (len(ids) + PEER_M)
                for p in overall_adoption.index
            }
            for c in ids:
                peers[c] = rates
    rows = []
    for account, have in owned.items():
        adoption = peers.get(account) or overall_adoption.to_dict()
        factor = float(size.get(account, 1.0))
        gaps = [
            (p, float(adoption[p] * value.get(p, 0.0) * factor))
            for p in overall_adoption.index
            if p not in have
        ]
        gaps.sort(key=lambda x: -x[1])
        rows.append(
            {
                key: account,
                "expansion_potential": sum(v for _, v in gaps),
                "next_products": ", ".join(str(p) for p, _ in gaps[:3]),
            }
        )
    return pd.DataFrame(rows), None


def _mrr(subscriptions: pd.DataFrame) -> pd.DataFrame:
    """Current MRR per account and its change over the last year (from subscription periods)."""
    s = subscriptions.copy()
    s["period_start"] = pd.to_datetime(s["period_start"])
    latest = s["period_start"].max()
    year_ago = latest - pd.Timedelta(days=365)

    def at(day: pd.Timestamp) -> pd.Series:
        before = s[s["period_start"] <= day].sort_values("period_start")
        return before.groupby("account_id")["mrr"].last()

    now, then = at(latest), at(year_ago)
    out = pd.DataFrame({"mrr": now}).join(pd.DataFrame({"mrr_year_ago": then}), how="left")
    out["mrr_change"] = out["mrr"] - out["mrr_year_ago"].fillna(0.0)
    return out.reset_index()
