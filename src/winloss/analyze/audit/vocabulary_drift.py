"""Vocabulary drift and typos in categorical values, found by similarity.

Three ways a value is recognised as a variant of another (the *proposal* merges it into that one):

1. **same normalised form** — equal after case folding, accent removal and dropping spaces and
   punctuation ("fintech " → "fintech", "GTXPro" ↔ "GTX Pro");
2. **a small edit** — a Damerau–Levenshtein (optimal string alignment) distance of 1 between
   normalised forms of at least 5 characters, or 2 from 9 characters; the rarer value merges into
   the more frequent one, and only when it is at most :data:`MAX_RARE_RATIO` as frequent (typos are
   rare; two common values one letter apart are usually two real values);
3. **a known term** — a rare value one small edit away from a term of a known vocabulary (the
   column's controlled vocabulary, its reference file, or :data:`KNOWN_TERMS`: the schema's
   vocabularies plus common industry and country names) that the column itself never uses, e.g.
   Maven's sector "technolgy" → "technology".

Values that differ only in digits ("GTK 500" / "GTK 600") or in a short code token ("Tier A" /
"Tier B") are never proposed.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from winloss.analyze.audit.checks import AuditIssue, CheckOutput, Scope
from winloss.model.schema import TABLES
from winloss.store.audit_queries import (
    reference_sources,
    reference_values,
    unmatched_values,
    value_counts,
)

if TYPE_CHECKING:
    from winloss.store.duckdb_store import DuckDBStore

#: An edit-distance variant is proposed only when it is at most this share of the other's deals.
MAX_RARE_RATIO = 0.25
#: Columns with more distinct values than this are treated as free text (no pairwise search).
MAX_DISTINCT = 2000

INDUSTRY_TERMS = (
    "technology",
    "information technology",
    "software",
    "hardware",
    "saas",
    "internet",
    "telecommunications",
    "telecom",
    "media",
    "entertainment",
    "marketing",
    "advertising",
    "finance",
    "financial services",
    "fintech",
    "banking",
    "insurance",
    "investment",
    "healthcare",
    "health care",
    "medical",
    "pharmaceuticals",
    "biotechnology",
    "life sciences",
    "retail",
    "ecommerce",
    "wholesale",
    "consumer goods",
    "manufacturing",
    "industrial",
    "automotive",
    "aerospace",
    "defense",
    "energy",
    "utilities",
    "oil and gas",
    "mining",
    "chemicals",
    "construction",
    "real estate",
    "transportation",
    "logistics",
    "hospitality",
    "travel",
    "education",
    "government",
    "public sector",
    "nonprofit",
    "non-profit",
    "legal",
    "consulting",
    "professional services",
    "services",
    "employment",
    "staffing",
    "agriculture",
    "food and beverage",
    "security",
    "gaming",
    "publishing",
)

COUNTRY_TERMS = (
    "afghanistan",
    "albania",
    "algeria",
    "andorra",
    "angola",
    "argentina",
    "armenia",
    "australia",
    "austria",
    "azerbaijan",
    "bahamas",
    "bahrain",
    "bangladesh",
    "barbados",
    "belarus",
    "belgium",
    "belize",
    "benin",
    "bhutan",
    "bolivia",
    "bosnia and herzegovina",
    "botswana",
    "brazil",
    "brunei",
    "bulgaria",
    "burkina faso",
    "burundi",
    "cambodia",
    "cameroon",
    "canada",
    "chad",
    "chile",
    "china",
    "colombia",
    "congo",
    "costa rica",
    "croatia",
    "cuba",
    "cyprus",
    "czech republic",
    "czechia",
    "denmark",
    "djibouti",
    "dominican republic",
    "ecuador",
    "egypt",
    "el salvador",
    "estonia",
    "eswatini",
    "ethiopia",
    "fiji",
    "finland",
    "france",
    "gabon",
    "gambia",
    "georgia",
    "germany",
    "ghana",
    "greece",
    "guatemala",
    "guinea",
    "guyana",
    "haiti",
    "honduras",
    "hong kong",
    "hungary",
    "iceland",
    "india",
    "indonesia",
    "iran",
    "iraq",
    "ireland",
    "israel",
    "italy",
    "jamaica",
    "japan",
    "jordan",
    "kazakhstan",
    "kenya",
    "korea",
    "south korea",
    "kosovo",
    "kuwait",
    "kyrgyzstan",
    "laos",
    "latvia",
    "lebanon",
    "lesotho",
    "liberia",
    "libya",
    "liechtenstein",
    "lithuania",
    "luxembourg",
    "madagascar",
    "malawi",
    "malaysia",
    "maldives",
    "mali",
    "malta",
    "mauritania",
    "mauritius",
    "mexico",
    "moldova",
    "monaco",
    "mongolia",
    "montenegro",
    "morocco",
    "mozambique",
    "myanmar",
    "namibia",
    "nepal",
    "netherlands",
    "new zealand",
    "nicaragua",
    "niger",
    "nigeria",
    "north macedonia",
    "norway",
    "oman",
    "pakistan",
    "panama",
    "papua new guinea",
    "paraguay",
    "peru",
    "philippines",
    "poland",
    "portugal",
    "qatar",
    "romania",
    "russia",
    "rwanda",
    "saudi arabia",
    "senegal",
    "serbia",
    "singapore",
    "slovakia",
    "slovenia",
    "somalia",
    "south africa",
    "spain",
    "sri lanka",
    "sudan",
    "suriname",
    "sweden",
    "switzerland",
    "syria",
    "taiwan",
    "tajikistan",
    "tanzania",
    "thailand",
    "togo",
    "trinidad and tobago",
    "tunisia",
    "turkey",
    "turkmenistan",
    "uganda",
    "ukraine",
    "united arab emirates",
    "united kingdom",
    "united states",
    "uruguay",
    "uzbekistan",
    "venezuela",
    "vietnam",
    "yemen",
    "zambia",
    "zimbabwe",
)


def _schema_vocabulary_terms() -> tuple[str, ...]:
    terms: set[str] = set()
    for table in TABLES.values():
        for f in table.fields:
            terms.update(f.vocabulary or ())
    return tuple(sorted(terms))


#: Terms a value may be a misspelling of, even when the column never uses the right spelling.
KNOWN_TERMS: tuple[str, ...] = tuple(
    sorted(set(_schema_vocabulary_terms()) | set(INDUSTRY_TERMS) | set(COUNTRY_TERMS))
)

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_DIGITS = re.compile(r"\d+")


def normalise(value: str) -> str:
    """Case-folded, accent-free, without spaces and punctuation: ``" GTX-Pro"`` → ``gtxpro``."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    return _NON_ALNUM.sub("", text.casefold())


def _tokens(value: str) -> list[str]:
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    return [t for t in _NON_ALNUM.split(text.casefold()) if t]


def edit_distance(a: str, b: str, max_distance: int) -> int:
    """Damerau–Levenshtein distance (optimal string alignment), capped at ``max_distance + 1``.

    Parameters
    ----------
    a, b
        The strings to compare.
    max_distance
        Larger distances are not needed: the computation stops and returns ``max_distance + 1``.
    """
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if abs(la - lb) > max_distance:
        return max_distance + 1
    previous2: list[int] = []
    previous = list(range(lb + 1))
    for i in range(1, la + 1):
        current = [i] + [0] * lb
        row_min = i
        for j in range(1, lb + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d = min(d, previous2[j - 2] + 1)
            current[j] = d
            row_min = min(row_min, d)
        if row_min > max_distance:
            return max_distance + 1
        previous2, previous = previous, current
    return min(previous[lb], max_distance + 1)


def allowed_distance(a: str, b: str) -> int:
    """How many edits two normalised forms may differ by and still be one value."""
    shortest = min(len(a), len(b))
    if shortest >= 9:
        return 2
    if shortest >= 5:
        return 1
    return 0


def _distinct_labels(a: str, b: str) -> bool:
    """True when two values differ in their digits or in a short code token ("Tier A"/"Tier B")."""
    if _DIGITS.findall(a.casefold()) != _DIGITS.findall(b.casefold()):
        return True
    ta, tb = _tokens(a), _tokens(b)
    if len(ta) == len(tb) and len(ta) > 1:
        differing = [(x, y) for x, y in zip(ta, tb, strict=True) if x != y]
        if len(differing) == 1 and max(len(differing[0][0]), len(differing[0][1])) <= 2:
            return True
    return False


def _plural_only(a: str, b: str) -> bool:
    short, long_ = sorted((a, b), key=len)
    return long_ in (short + "s", short + "es")


@dataclass(frozen=True)
class Variant:
    """A value proposed to merge into another one."""

    value: str
    deals: int
    suggested: str | None
    suggested_deals: int
    distance: int
    similarity: float
    reason: str
    source: str  # "column", "reference", "vocabulary" or "known term"


def similarity(a: str, b: str) -> float:
    """1 − distance / longer length, of the normalised forms (1.0 = the same normalised value)."""
    na, nb = normalise(a), normalise(b)
    longest = max(len(na), len(nb), 1)
    return 1.0 - edit_distance(na, nb, longest) / longest


def _close(a: str, b: str) -> int | None:
    """The edit distance of two normalised forms when within the allowed distance, else None."""
    limit = allowed_distance(a, b)
    if limit == 0:
        return None
    d = edit_distance(a, b, limit)
    return d if d <= limit else None


def column_variants(counts: Mapping[str, int]) -> list[Variant]:
    """Variants within one column's values (value → deals): same normalised form or small edit."""
    groups: dict[str, list[tuple[str, int]]] = {}
    for value, n in counts.items():
        key = normalise(value)
        if key:
            groups.setdefault(key, []).append((value, int(n)))
    out: list[Variant] = []
    representative: dict[str, tuple[str, int]] = {}
    for key, members in groups.items():
        # the spelling to keep: one with single spaces first (a doubled space is the typo even
        # when it is the commoner spelling: "Mark  Chen" on 55 deals, "Mark Chen" on 10), then
        # the commonest
        members.sort(key=lambda m: (m[0] != " ".join(m[0].split()), -m[1], m[0]))
        head, head_n = members[0]
        representative[key] = (head, sum(n for _, n in members))
        for value, n in members[1:]:
            out.append(
                Variant(
                    value,
                    n,
                    head,
                    head_n,
                    0,
                    1.0,
                    "differs only in case, spaces or punctuation",
                    "column",
                )
            )
    if len(representative) > MAX_DISTINCT:
        return out
    ranked = sorted(representative.items(), key=lambda kv: (-kv[1][1], kv[0]))
    for i, (rare_key, (rare, rare_n)) in enumerate(ranked):
        best: tuple[int, int, str, str, int] | None = None
        for common_key, (common, common_n) in ranked[:i]:
            if rare_n > MAX_RARE_RATIO * common_n:
                break
            if abs(len(rare_key) - len(common_key)) > 2:
                continue
            d = _close(rare_key, common_key)
            if d is None or _distinct_labels(rare, common):
                continue
            candidate = (d, -common_n, common_key, common, common_n)
            if best is None or candidate < best:
                best = candidate
        if best is not None:
            d, _, _, common, common_n = best
            out.append(
                Variant(
                    rare,
                    rare_n,
                    common,
                    common_n,
                    d,
                    similarity(rare, common),
                    f"{d} edit{'s' if d > 1 else ''} from a more frequent value",
                    "column",
                )
            )
    return out


def closest_term(value: str, terms: Iterable[str]) -> tuple[str, int] | None:
    """The term ``value`` is a variant of (same normalised form or a small edit), if exactly one
    term is closest."""
    return _closest(value, [(t, normalise(t)) for t in terms])


def _closest(value: str, keyed_terms: list[tuple[str, str]]) -> tuple[str, int] | None:
    key = normalise(value)
    if not key:
        return None
    scored: list[tuple[int, str]] = []
    for term, tk in keyed_terms:
        if tk == key:
            return term, 0
        if abs(len(tk) - len(key)) > 2 or _plural_only(key, tk):
            continue
        d = _close(key, tk)
        if d is not None and not _distinct_labels(value, term):
            scored.append((d, term))
    if not scored:
        return None
    scored.sort()
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None  # ambiguous: two equally close terms
    return scored[0][1], scored[0][0]


def term_variants(
    counts: Mapping[str, int],
    terms: Iterable[str],
    *,
    source: str,
    reason: str,
    only: Iterable[str] | None = None,
) -> list[Variant]:
    """Values of a column (``only`` those, if given) that are variants of a term.

    With ``source="known term"`` a value that is itself a known term is left alone, and only terms
    the column never uses are proposed (the column's own values are compared by
    :func:`column_variants`).
    """
    keyed = [(t, normalise(t)) for t in dict.fromkeys(terms)]
    candidates = list(only) if only is not None else list(counts)
    if len(candidates) > MAX_DISTINCT:
        return []
    if source == "known term":
        present = {normalise(v) for v in counts}
        known = {k for _, k in keyed}
        candidates = [v for v in candidates if normalise(v) not in known]
        keyed = [(t, k) for t, k in keyed if k not in present]
    out: list[Variant] = []
    for value in candidates:
        match = _closest(value, keyed)
        if match is None or match[0] == value:
            continue
        term, d = match
        out.append(
            Variant(
                value,
                int(counts.get(value, 0)),
                term,
                int(counts.get(term, 0)),
                d,
                similarity(value, term),
                reason,
                source,
            )
        )
    return out


# -- the audit check ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CategoricalColumn:
    """A categorical column the audit searches for variants."""

    name: str  # deal column, or "stage_history.stage" / "activities.type"
    importance: str
    vocabulary: tuple[str, ...] | None = None
    known_terms: bool = True  # also compare with KNOWN_TERMS (not for people's names)

    @property
    def in_deals(self) -> bool:
        return "." not in self.name

    def counts(
        self, store: DuckDBStore, scope: Scope, distinct_deals_of: list[str] | None = None
    ) -> pd.DataFrame:
        """Rows per value in scope: deals for a deal column; for a column of another table, its
        rows (cheap), or the distinct deals of the values ``distinct_deals_of``."""
        return value_counts(store, scope, self.name, distinct_deals_of)


def _styled(term: str, like: str) -> str:
    """A known term written in the style of the value it replaces (Title Case, UPPER, lower)."""
    if like.isupper():
        return term.upper()
    if like[:1].isupper():
        return " ".join(w[:1].upper() + w[1:] for w in term.split(" "))
    return term


def _no_match(value: str, n: int, reason: str, source: str) -> Variant:
    return Variant(value, n, None, 0, -1, 0.0, reason, source)


def column_findings(
    counts: Mapping[str, int],
    column: CategoricalColumn,
    *,
    reference: Iterable[str] | None = None,
    reference_file: str = "",
    unmatched: Iterable[str] = (),
) -> list[Variant]:
    """Every variant in one column, one per value, the most specific reason first.

    Parameters
    ----------
    counts
        Deals per value of the column.
    column
        The column (its controlled vocabulary, whether known terms apply).
    reference
        Reference values of the column, when a reference file was joined at import.
    reference_file
        Name of that file, for the reasons.
    unmatched
        Values the import recorded as not found in the reference file.
    """
    found: list[Variant] = []
    ref_values = set(reference or ())
    if ref_values:
        reason = f"the deals' value is missing from the reference file {reference_file or '(joined at import)'}"
        missing = sorted({v for v in counts if v not in ref_values} | set(unmatched))
        matched = term_variants(
            counts, sorted(ref_values), source="reference", reason=reason, only=missing
        )
        found += matched
        seen = {v.value for v in matched}
        found += [
            _no_match(v, int(counts.get(v, 0)), reason, "reference")
            for v in missing
            if v not in seen
        ]
    if column.vocabulary:
        outside = sorted(v for v in counts if v not in column.vocabulary)
        matched = term_variants(
            counts,
            column.vocabulary,
            source="vocabulary",
            reason="outside the controlled vocabulary",
            only=outside,
        )
        found += matched
        seen = {v.value for v in matched}
        found += [
            _no_match(v, int(counts[v]), "outside the controlled vocabulary", "vocabulary")
            for v in outside
            if v not in seen
        ]
    found += column_variants(counts)
    if column.known_terms and not column.vocabulary and len(counts) <= MAX_DISTINCT:
        ref_keys = {normalise(v) for v in ref_values}
        candidates = [v for v in counts if normalise(v) not in ref_keys]
        for v in term_variants(
            counts,
            KNOWN_TERMS,
            source="known term",
            reason="looks like a misspelling of a known term",
            only=candidates,
        ):
            found.append(dataclasses.replace(v, suggested=_styled(v.suggested or "", v.value)))
    out: dict[str, Variant] = {}
    for v in found:
        out.setdefault(v.value, v)
    return sorted(out.values(), key=lambda v: (-v.deals, v.value))


def vocabulary_check(
    store: DuckDBStore, scope: Scope, columns: list[CategoricalColumn]
) -> CheckOutput:
    """Vocabulary drift and typos in every categorical column, and values missing from the
    reference files joined at import."""
    out = CheckOutput()
    refs = reference_values(store)
    unmatched = unmatched_values(store)
    total = scope.count(store)
    files = reference_files(store)
    names = {c.name for c in columns}
    extra = [
        CategoricalColumn(f, "key", known_terms=False)
        for f in sorted(set(refs["field"]))
        if f not in names
    ]
    rows: list[dict[str, Any]] = []
    for column in [*columns, *extra]:
        counts_frame = column.counts(store, scope)
        counts = dict(
            zip(counts_frame["value"].astype(str), counts_frame["deals"].astype(int), strict=True)
        )
        if not counts:
            continue
        ref_rows = refs[refs["field"] == column.name]
        missing = unmatched[unmatched["field"] == column.name]["value"].tolist()
        variants = column_findings(
            counts,
            column,
            reference=ref_rows["value"].tolist(),
            reference_file=files.get(column.name, ""),
            unmatched=missing,
        )
        if not variants:
            continue
        if not column.in_deals:
            variants = _count_deals(store, scope, column, variants)
        for v in variants:
            rows.append({"column": column.name, **dataclasses.asdict(v)})
        out.issues.append(_issue(column, variants, total))
    out.tables["vocabulary"] = pd.DataFrame(
        rows,
        columns=[
            "column",
            "value",
            "deals",
            "suggested",
            "suggested_deals",
            "distance",
            "similarity",
            "reason",
            "source",
        ],
    )
    return out


def _count_deals(
    store: DuckDBStore, scope: Scope, column: CategoricalColumn, variants: list[Variant]
) -> list[Variant]:
    """Variants of a stage or activity column found on row counts, with their deals counted."""
    values = sorted({v.value for v in variants} | {v.suggested for v in variants if v.suggested})
    frame = column.counts(store, scope, distinct_deals_of=values)
    deals = dict(zip(frame["value"].astype(str), frame["deals"].astype(int), strict=True))
    return [
        dataclasses.replace(
            v, deals=deals.get(v.value, 0), suggested_deals=deals.get(v.suggested or "", 0)
        )
        for v in variants
    ]


def reference_files(store: DuckDBStore) -> dict[str, str]:
    """The file each field's reference values came from (field → file name), where the import's
    preset names its lookup files; else the imported file they were joined to."""
    from winloss.model.mapping import PRESETS

    rows = reference_sources(store)
    out: dict[str, str] = {}
    for rec in rows.to_dict(orient="records"):
        preset = PRESETS.get(str(rec["preset"])) if rec["preset"] else None
        lookups = [
            lk.file for lk in (preset.lookups if preset else ()) if lk.reference_for == rec["field"]
        ]
        name = lookups[0] if lookups else f"joined at the import of {rec['source']}"
        out.setdefault(str(rec["field"]), name.rsplit("/", 1)[-1])
    return out


def _issue(column: CategoricalColumn, variants: list[Variant], total: int) -> AuditIssue:
    deals = sum(v.deals for v in variants)

    def show(v: Variant) -> str:
        target = f"'{v.suggested}'" if v.suggested is not None else "?"
        return f"'{v.value}' ({v.deals:,}) → {target}"

    listed = ", ".join(show(v) for v in variants[:3])
    more = f" and {len(variants) - 3} more" if len(variants) > 3 else ""
    reasons = sorted({v.reason for v in variants})
    title = (
        f"{column.name}: {len(variants)} value{'s' if len(variants) > 1 else ''} to fix — "
        f"{listed}{more} ({'; '.join(reasons)})"
    )
    merges = [v for v in variants if v.suggested is not None][:3]
    if merges:
        pairs = ", ".join(f"'{v.value}' into '{v.suggested}'" for v in merges)
        rest = " (and the others in the vocabulary table)" if len(variants) > len(merges) else ""
        action = (
            f"Merge {pairs}{rest} in the CRM picklist (or map them under value_maps: "
            f"{column.name}: in the mapping file) and re-import."
        )
    else:
        action = (
            f"Correct {', '.join(repr(v.value) for v in variants[:3])} in the CRM or add "
            "them to the reference file, then re-import."
        )
    unblocks = [f"concentrations on {column.name} with each category counted once"]
    files = sorted({v.reason.rsplit(" ", 1)[-1] for v in variants if v.source == "reference"})
    if files:
        unblocks.append(f"the columns joined from {', '.join(files)} for these deals")
    return AuditIssue(
        key=f"vocabulary:{column.name}",
        check="vocabulary drift",
        title=title,
        deals=deals,
        of=total,
        universe="deals",
        importance=column.importance,
        action=action,
        unblocks=tuple(unblocks),
        field=column.name,
        examples=tuple(v.value for v in variants[:5]),
    )
