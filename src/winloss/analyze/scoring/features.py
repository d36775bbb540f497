"""Which deal fields a model may use, and how they become numbers.

The predictor set depends on the *purpose*:

``win``
    every field known before the outcome that the analyses consider (schema, preset or import
    mapping say so), minus leaks found by :mod:`winloss.analyze.scoring.leakage`.
``lead``
    only fields known when a deal is created (:data:`CREATION_TIME_FIELDS` plus custom fields known
    before the outcome): what an early-qualification score may look at.
``account``
    only attributes of the account (:data:`ACCOUNT_FIELDS` plus custom fields that are constant
    within accounts): the ideal-customer profile.
``explanatory``
    everything the ``win`` purpose uses plus the fields known only at or after the close — for
    explaining past outcomes, never for predicting open deals.

:class:`FeatureEncoder` turns a frame of those fields into three representations: a dense matrix for
gradient boosting (categories as codes), a sparse one-hot matrix for logistic regression (numbers in
quantile bins) and discrete codes for naive Bayes. Decimal fields with many distinct values (money
amounts) also get two companions: how *round* the value is (trailing zeros: a ballpark estimate
versus an exact quote) and how many *other* training deals carry exactly the same value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from winloss.errors import UsageError

Purpose = Literal["win", "lead", "account", "explanatory"]

#: Fields known when a deal is created; the lead score uses only these (plus custom fields known
#: before the outcome). Everything learnt later in the cycle — stakeholders, decision maker, decision
#: criteria, pain, impact and critical event — is left out, and so is the owner (the rep is not a
#: property of the lead).
CREATION_TIME_FIELDS: tuple[str, ...] = (
    "amount",
    "currency",
    "segment",
    "region",
    "industry",
    "product",
    "source",
    "introduced_by",
    "champion_title",
    "champion_tenure_days",
)
#: Canonical fields that describe the account rather than the deal (ideal-customer profile).
ACCOUNT_FIELDS: tuple[str, ...] = ("segment", "region", "industry")
#: Fields never used as predictors even though known before the outcome: ids and raw dates.
NEVER_PREDICTORS = frozenset(
    {
        "deal_id",
        "account_id",
        "account_name",
        "created_at",
        "champion_start_date",
        "critical_event_date",
        "outcome",
    }
)
#: Categories with fewer training deals than this are pooled into "(other)".
MIN_LEVEL_COUNT = 5
#: At most this many levels per categorical field (gradient boosting handles at most 255).
MAX_LEVELS = 200
#: A numeric field with at least this many distinct values gets roundness/frequency companions.
MANY_VALUES = 20
#: A text field with at least this share of distinct values is an identifier or free text; a
#: numeric one only when it also looks like an id (:func:`identifier_reason`).
ID_LIKE_SHARE = 0.9
#: Whole numbers that fill at least this share of the integers between their minimum and maximum
#: run like record numbers (1001, 1002, 1004, …). A measurement with ≥ 90 % distinct values
#: spreads over a range several times the number of deals and fills far less (tenure in days:
#: 215 values over 14–3,853, a 6 % fill).
SEQUENCE_FILL = 0.5
#: A column named as a record's identifier or number: ``opportunity_number``, ``Case ID``,
#: ``record_no``, ``ticket #`` (never ``number_of_seats``; nor ``_num`` and ``_ref``: warehouse
#: exports name numeric measures ``annual_revenue_num``, and ``list_price_ref`` is a price).
_ID_WORDS = re.compile(r"(?:^|[_\s\-.])(?:id|number|no|nr|uuid|guid)$|#$", re.IGNORECASE)
#: ``customerID``, ``dealId``.
_CAMEL_ID = re.compile(r"[a-z](?:ID|Id)$")
MISSING = "(missing)"
OTHER = "(other)"


@dataclass(frozen=True)
class Predictor:
    """A deal field used as a predictor: its name, plain label and kind."""

    name: str
    label: str
    kind: Literal["category", "numeric"]
    origin: str = "canonical"
    known: str = "before"
    dtype: str = "category"


@dataclass(frozen=True)
class FieldChoice:
    """The fields a model may use for a purpose, and every other field with the reason it is not."""

    purpose: str
    predictors: tuple[Predictor, ...]
    excluded: tuple[dict[str, str], ...] = ()

    def names(self) -> list[str]:
        return [p.name for p in self.predictors]


#: Short labels of canonical and derived fields for plain-words explanations.
PLAIN_LABELS: dict[str, str] = {
    "amount": "Amount",
    "owner": "Owner",
    "currency": "Currency",
    "segment": "Segment",
    "region": "Region",
    "industry": "Industry",
    "product": "Product",
    "source": "Source",
    "introduced_by": "Introduced by",
    "champion_title": "Champion's title",
    "pain_category": "Main pain",
    "pain_consequence": "Consequence of the pain",
    "impact_type": "Hoped-for impact",
    "impact_value": "Size of the impact",
    "strategic_importance": "Strategic importance",
    "criteria_co_created": "Decision criteria shaped with us",
    "stakeholders": "Stakeholders",
    "decision_maker_engaged": "Decision maker engaged",
    "competitor": "Competitor",
    "stage": "Stage",
    "cycle_days": "Sales cycle (days)",
    "days_to_critical_event": "Days from creation to the critical event",
    "champion_tenure_days": "Champion's tenure at creation (days)",
}


def plain_label(f: Any) -> str:
    """A short label for a field: the file's own label for custom fields."""
    if f.origin == "custom" and f.label:
        return str(f.label)
    name = str(f.name)
    return PLAIN_LABELS.get(name, name.replace("_", " ").capitalize())


def _distinct_share(col: pd.Series) -> float:
    values = col.dropna()
    return float(values.nunique() / len(values)) if len(values) else 0.0


def named_like_an_id(*names: str) -> bool:
    """Whether any of ``names`` (a field's name, its file's label) names an identifier."""
    return any(_ID_WORDS.search(n.strip()) or _CAMEL_ID.search(n.strip()) for n in names if n)


def identifier_reason(f: Any, col: pd.Series) -> str | None:
    """Why field ``f`` with values ``col`` looks like an identifier, or None when it does not.

    Text with ≥ :data:`ID_LIKE_SHARE` distinct values is an id or free text. A number is an id
    only when, besides as many distinct values, it is whole and either named as an id
    (``opportunity_number``) or runs like record numbers (:data:`SEQUENCE_FILL`): a day count or an
    amount has many distinct values too, and it is a measurement.
    """
    values = col.dropna()
    if len(values) < 50:
        return None
    share = _distinct_share(values)
    if share < ID_LIKE_SHARE:
        return None
    if _kind(f.dtype) != "numeric":
        return f"looks like an identifier ({share:.0%} distinct values)"
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    numbers = numbers[np.isfinite(numbers)]
    if len(numbers) < 50 or not np.all(numbers == np.round(numbers)):
        return None
    span = float(numbers.max() - numbers.min()) + 1.0
    fill = len(np.unique(numbers)) / span
    if fill >= SEQUENCE_FILL:
        return (
            f"looks like an identifier ({share:.0%} distinct values, running like record numbers)"
        )
    label = str(f.label or "") if f.origin == "custom" else ""  # canonical labels are sentences
    if named_like_an_id(str(f.name), label):
        return f"looks like an identifier ({share:.0%} distinct values, named as an id)"
    return None


def _kind(dtype: str) -> Literal["category", "numeric"] | None:
    if dtype in ("int", "float"):
        return "numeric"
    if dtype in ("category", "bool", "string"):
        return "category"
    return None


def choose_fields(
    catalog: list[Any],
    frame: pd.DataFrame,
    *,
    purpose: Purpose = "win",
    exclude: tuple[str, ...] = (),
    account_level: tuple[str, ...] = (),
) -> FieldChoice:
    """The candidate predictors for ``purpose`` from the workspace's field catalog.

    ``catalog`` holds :class:`winloss.workspace.DealField` items. Fields without any value in
    ``frame`` are skipped silently; fields excluded for a reason are listed with it.
    """
    names = {f.name for f in catalog}
    unknown = [x for x in exclude if x not in names]
    if unknown:
        # an excluded name that is no field was ignored in silence (`--exclude industri` kept
        # industry in the model)
        raise UsageError(
            f"--exclude {', '.join(unknown)}: not a field of the stored deals; fields: "
            f"{', '.join(sorted(n for n in names if n not in NEVER_PREDICTORS))}"
        )
    chosen: list[Predictor] = []
    excluded: list[dict[str, str]] = []
    seen: set[str] = set()
    for f in catalog:
        if f.name in NEVER_PREDICTORS or not f.analyse or f.name in seen:
            continue
        seen.add(f.name)
        if f.name not in frame.columns or frame[f.name].notna().sum() == 0:
            continue
        kind = _kind(f.dtype)
        if kind is None:
            continue
        if f.name in exclude:
            excluded.append({"field": f.name, "reason": "excluded by the user"})
            continue
        id_reason = identifier_reason(f, frame[f.name])
        if id_reason is not None:
            excluded.append(
                {
                    "field": f.name,
                    "reason": f"{id_reason}: ids and free text say nothing about new deals",
                }
            )
            continue
        if f.known == "after" and purpose != "explanatory":
            who = "the schema" if f.origin != "custom" else "the import preset or mapping"
            excluded.append(
                {
                    "field": f.name,
                    "reason": f"known only after the outcome ({who} "
                    "marks it so): it would leak the result into the prediction",
                }
            )
            continue
        if f.name == "quarter" or (f.name == "stage" and purpose == "explanatory"):
            excluded.append({"field": f.name, "reason": "restates the outcome or its date"})
            continue
        if purpose == "lead" and f.origin != "custom" and f.name not in CREATION_TIME_FIELDS:
            excluded.append(
                {
                    "field": f.name,
                    "reason": "not known when a deal is created "
                    "(lead scoring uses creation-time fields only)",
                }
            )
            continue
        if purpose == "account" and f.name not in (account_level or ACCOUNT_FIELDS):
            excluded.append({"field": f.name, "reason": "describes the deal, not the account"})
            continue
        chosen.append(Predictor(f.name, plain_label(f), kind, f.origin, f.known, f.dtype))
    return FieldChoice(purpose, tuple(chosen), tuple(excluded))


def roundness(values: np.ndarray) -> np.ndarray:
    """Trailing zeros of the integer part (0 for 36,144; 3 for 50,000; NaN stays NaN; 0 → 0)."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v)
    iv = np.abs(np.round(v[ok])).astype(np.int64)
    r = np.zeros(iv.shape)
    alive = iv != 0
    for k in range(1, 10):
        alive &= iv % (10**k) == 0
        r[alive] = k
    out[ok] = r
    return out


@dataclass
class _Numeric:
    name: str
    edges: np.ndarray  # interior quantile edges for bins
    companions: bool
    value_counts: dict[float, int] = field(default_factory=dict)
    quantiles: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class _Category:
    name: str
    levels: list[str]  # code i = levels[i]; includes OTHER and MISSING at the end


class FeatureEncoder:
    """Fitted on training deals; turns frames of the predictor fields into model inputs."""

    def __init__(
        self,
        predictors: tuple[Predictor, ...],
        *,
        max_bins: int = 10,
        companions: bool = True,
        min_level_count: int = MIN_LEVEL_COUNT,
    ) -> None:
        self.predictors = predictors
        self.max_bins = max_bins
        self.companions = companions
        self.min_level_count = min_level_count
        self.numeric: list[_Numeric] = []
        self.categories: list[_Category] = []

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame) -> FeatureEncoder:
        """Learn levels, bins and value counts from the training deals."""
        self.numeric, self.categories = [], []
        for p in self.predictors:
            col = frame[p.name]
            if p.kind == "numeric":
                v = pd.to_numeric(col, errors="coerce").astype(float).to_numpy()
                finite = v[np.isfinite(v)]
                qs = (
                    np.quantile(finite, np.linspace(0, 1, self.max_bins + 1)[1:-1])
                    if len(finite)
                    else np.zeros(0)
                )
                many = (
                    self.companions and p.dtype == "float" and len(np.unique(finite)) >= MANY_VALUES
                )
                counts: dict[float, int] = {}
                if many:
                    vc = pd.Series(finite).value_counts()
                    counts = {float(k): int(n) for k, n in vc.items()}
                pct = np.quantile(finite, np.linspace(0, 1, 101)) if len(finite) else np.zeros(0)
                self.numeric.append(_Numeric(p.name, np.unique(qs), many, counts, pct))
            else:
                s = _as_text(col)
                vc = s.value_counts()
                keep = [str(k) for k, n in vc.items() if n >= self.min_level_count and k != MISSING]
                keep = sorted(keep[:MAX_LEVELS])
                self.categories.append(_Category(p.name, [*keep, OTHER, MISSING]))
        return self

    def transform(self, frame: pd.DataFrame, *, training: bool = False) -> EncodedDeals:
        """Encode ``frame``; ``training=True`` excludes each deal from its own frequency count."""
        return EncodedDeals(self, frame, training)

    def transform_dense(
        self, frame: pd.DataFrame, rows: np.ndarray, *, training: bool = False, chunk: int = 100_000
    ) -> EncodedDeals:
        """Encode ``frame.iloc[rows]`` for gradient boosting only, ``chunk`` rows at a time.

        Only :attr:`EncodedDeals.dense` is available: large data never copies the whole frame.
        """
        dense = np.empty((len(rows), len(self.dense_names())))
        for i in range(0, len(rows), chunk):
            dense[i : i + chunk] = EncodedDeals(
                self, frame.iloc[rows[i : i + chunk]], training
            ).dense
        out = EncodedDeals(self, frame.iloc[:0], training)
        out.n = len(rows)
        out.__dict__["dense"] = dense
        return out

    # -- helpers ----------------------------------------------------------------------------
    def category_codes(self, cat: _Category, col: pd.Series) -> np.ndarray:
        codes = pd.Index(cat.levels).get_indexer(_as_text(col)).astype(np.int64)
        codes[codes < 0] = cat.levels.index(OTHER)
        return np.asarray(codes)

    def dense_names(self) -> list[str]:
        names = []
        for num in self.numeric:
            names.append(num.name)
            if num.companions:
                names += [f"{num.name}__roundness", f"{num.name}__frequency"]
        return names + [c.name for c in self.categories]

    def percentile(self, name: str, value: float) -> float:
        """Share of training deals with a value at or below ``value`` (0–100)."""
        for num in self.numeric:
            if num.name == name and len(num.quantiles):
                return float(np.searchsorted(num.quantiles, value, side="right") - 1)
        return float("nan")


def _as_text_slow(col: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(col.dtype):
        col = col.astype("object").map({True: "yes", False: "no"}, na_action="ignore")
    out = col.astype("string").str.strip()
    out = out.mask(out.isna() | (out == ""), MISSING)
    return out.astype(object)


def _as_text(col: pd.Series) -> pd.Series:
    """Values as stripped text, empty and missing as :data:`MISSING` (object Series, same index).

    Equal to converting every value (``_as_text_slow``), but text and booleans are converted once
    per distinct value and taken by factorized codes: the model encodes the same few category
    values thousands of times per fit (folds, bootstrap refits, what-if explanations).
    """
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return _as_text_slow(col)  # numbers print as pandas prints them
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    values = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
    if pd.api.types.is_bool_dtype(col.dtype) and all(isinstance(v, bool) for v in values):
        text = np.array(["yes" if v else "no" for v in values], dtype=object)
    elif col.dtype != bool and all(type(v) is str for v in values):
        text = np.array([v.strip() or MISSING for v in values], dtype=object)
    else:  # mixed objects (factorize would merge True with 1): convert every value
        return _as_text_slow(col)
    taken = np.full(len(codes), MISSING, dtype=object)
    present = codes >= 0
    taken[present] = text[codes[present]]
    return pd.Series(taken, index=col.index, name=col.name, dtype=object)


class EncodedDeals:
    """A frame encoded by a :class:`FeatureEncoder`; each representation is built on first use."""

    def __init__(self, encoder: FeatureEncoder, frame: pd.DataFrame, training: bool) -> None:
        self.encoder = encoder
        self.frame = frame
        self.training = training
        self.n = len(frame)

    def take(self, rows: np.ndarray) -> EncodedDeals:
        """The encoding of ``frame.iloc[rows]``, sliced from this one rather than encoded again.

        Equal to ``encoder.transform(frame.iloc[rows], training=self.training)``: every encoded
        value depends on its own deal and the fitted encoder only (the training frequency count
        leaves out the deal itself, whichever deals are beside it).
        """
        sub = EncodedDeals(self.encoder, self.frame.iloc[rows], self.training)
        sub.__dict__["_numeric_values"] = {k: v[rows] for k, v in self._numeric_values.items()}
        sub.__dict__["_category_codes"] = {k: v[rows] for k, v in self._category_codes.items()}
        return sub

    def permuted(self, name: str, order: np.ndarray) -> EncodedDeals:
        """This encoding with field ``name``'s values reordered by ``order``, the others unchanged.

        Equal to encoding the frame with column ``name`` shuffled so (every encoded value depends
        on its own deal's value only), without encoding every field again: permutation importance
        shuffles each field in turn.
        """
        if any(c.endswith(("__roundness", "__frequency")) for c in self.frame.columns):
            raise ValueError("permuted() needs a frame without companion override columns")
        out = EncodedDeals(self.encoder, self.frame, self.training)
        out.__dict__["_numeric_values"] = {
            k: (v[order] if k == name else v) for k, v in self._numeric_values.items()
        }
        out.__dict__["_category_codes"] = {
            k: (v[order] if k == name else v) for k, v in self._category_codes.items()
        }
        return out

    @cached_property
    def _numeric_values(self) -> dict[str, np.ndarray]:
        return {
            num.name: pd.to_numeric(self.frame[num.name], errors="coerce").astype(float).to_numpy()
            for num in self.encoder.numeric
        }

    @cached_property
    def _category_codes(self) -> dict[str, np.ndarray]:
        return {
            cat.name: self.encoder.category_codes(cat, self.frame[cat.name])
            for cat in self.encoder.categories
        }

    def _companions(self, num: _Numeric, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Roundness and frequency of ``v``; columns ``NAME__roundness``/``NAME__frequency`` in
        the frame override them (what-if explanations hold them while the value moves)."""
        r_col, f_col = f"{num.name}__roundness", f"{num.name}__frequency"
        r = (
            pd.to_numeric(self.frame[r_col]).to_numpy(dtype=float)
            if r_col in self.frame.columns
            else roundness(v)
        )
        f = (
            pd.to_numeric(self.frame[f_col]).to_numpy(dtype=float)
            if f_col in self.frame.columns
            else self._frequency(num, v)
        )
        return r, f

    def _frequency(self, num: _Numeric, v: np.ndarray) -> np.ndarray:
        counts = pd.Series(v).map(num.value_counts).fillna(0).to_numpy(dtype=float)
        if self.training:
            counts = np.maximum(counts - np.isfinite(v), 0)
        return np.where(np.isfinite(v), counts, np.nan)

    @cached_property
    def dense(self) -> np.ndarray:
        """Float matrix for gradient boosting; categorical columns hold codes (see ``is_category``)."""
        cols: list[np.ndarray] = []
        for num in self.encoder.numeric:
            v = self._numeric_values[num.name]
            cols.append(v)
            if num.companions:
                cols += list(self._companions(num, v))
        cols += [self._category_codes[c.name].astype(float) for c in self.encoder.categories]
        if not cols:
            return np.zeros((self.n, 0))
        return np.column_stack(cols).astype(np.float64)

    @property
    def is_category(self) -> np.ndarray:
        n_num = sum(3 if num.companions else 1 for num in self.encoder.numeric)
        return np.array([False] * n_num + [True] * len(self.encoder.categories), dtype=bool)

    @cached_property
    def codes(self) -> list[tuple[np.ndarray, int]]:
        """Discrete codes and their number of values per feature (numbers binned; missing own bin)."""
        out: list[tuple[np.ndarray, int]] = []
        for num in self.encoder.numeric:
            v = self._numeric_values[num.name]
            out.append(_bin(v, num.edges))
            if num.companions:
                r, freq = self._companions(num, v)
                out.append((np.where(np.isfinite(r), np.minimum(r, 6), 7).astype(np.int64), 8))
                fb = np.digitize(freq, [0.5, 1.5, 4.5, 9.5, 49.5])
                out.append((np.where(np.isfinite(freq), fb, 6).astype(np.int64), 7))
        for cat in self.encoder.categories:
            out.append((self._category_codes[cat.name], len(cat.levels)))
        return out

    @cached_property
    def onehot(self) -> sparse.csr_matrix:
        """Sparse one-hot matrix of :attr:`codes` for logistic regression.

        Built directly in CSR form: every row holds exactly one 1 per feature, in feature order,
        so the arrays equal those of stacking one block per feature (``_onehot_stacked``).
        """
        if not self.codes:
            return sparse.csr_matrix((self.n, 0))
        widths = np.array([k for _, k in self.codes], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(widths)[:-1]])
        width = int(widths.sum())
        index_dtype = np.int32 if max(width, self.n * len(widths)) < 2**31 - 1 else np.int64
        indices = (
            (np.column_stack([codes for codes, _ in self.codes]) + offsets)
            .astype(index_dtype)
            .ravel()
        )
        indptr = np.arange(0, self.n * len(widths) + 1, len(widths), dtype=index_dtype)
        return sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(self.n, width))

    def _onehot_stacked(self) -> sparse.csr_matrix:
        """The one-hot matrix stacked block by block (the reference :attr:`onehot` equals)."""
        blocks = []
        for codes, k in self.codes:
            rows = np.arange(self.n)
            blocks.append(sparse.csr_matrix((np.ones(self.n), (rows, codes)), shape=(self.n, k)))
        if not blocks:
            return sparse.csr_matrix((self.n, 0))
        return sparse.hstack(blocks, format="csr")


def _bin(v: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, int]:
    k = len(edges) + 1
    b = np.digitize(v, edges) if len(edges) else np.zeros(len(v), dtype=np.int64)
    return np.where(np.isfinite(v), b, k).astype(np.int64), k + 1


def describe_pattern(encoder: FeatureEncoder, predictor: Predictor, value: Any) -> str:
    """The value companions of a number in words: ``data pattern: Amount is a round figure, a
    value rarely seen before``. Shown as a data pattern, never as a reason a rep can act on."""
    num = next((n for n in encoder.numeric if n.name == predictor.name), None)
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = float("nan")
    if num is None or not num.companions or not np.isfinite(x) or x == 0:
        return f"data pattern: how round and how common {predictor.label} is"
    r = roundness(np.array([x]))[0]
    notes = ["a round figure" if r >= 3 else "an exact figure" if r == 0 else ""]
    seen = num.value_counts.get(x, 0)
    if seen >= 10:
        notes.append(f"a common value ({seen:,} past deals)")
    elif seen <= 1:
        notes.append("a value rarely seen before")
    words = ", ".join(n for n in notes if n) or "neither round nor exact"
    return f"data pattern: {predictor.label} is {words}"


def describe_value(encoder: FeatureEncoder, predictor: Predictor, value: Any) -> str:
    """A value in plain words: ``Region is Pacific``, ``Amount is 250,000 (top 10% of deals)``."""
    label = predictor.label
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return f"{label} is not recorded"
    if predictor.kind == "numeric":
        x = float(value)
        text = f"{x:,.0f}" if abs(x) >= 100 or x == int(x) else f"{x:,.2f}"
        pct = encoder.percentile(predictor.name, x)
        notes = []
        if np.isfinite(pct):
            if pct >= 80:
                notes.append(f"top {max(1, 100 - int(pct))}% of deals")
            elif pct <= 20:
                notes.append(f"bottom {max(1, int(pct) + 1)}% of deals")
        notes = [n for n in notes if n]
        return f"{label} is {text}" + (f" ({', '.join(notes)})" if notes else "")
    if isinstance(value, bool | np.bool_):
        return f"{label}: {'yes' if value else 'no'}"
    return f"{label} is {value}"
