"""The Bowtie (issue 13): pre-sale metrics on 1M deals with 10M stage-history rows, against the
same computation in pandas, in one run.

Run from the repository root::

    python benchmarks/bench_bowtie.py [--deals 1000000] [--rows-per-deal 10]

The data are generated inside DuckDB (deterministic hashes, no Python loop) into
``benchmarks/data/bowtie_<n>.duckdb`` and a Parquet copy of the same two tables: 1M deals over three
years (30 % won, 55 % lost, 15 % open), each with 10 stage-history rows over the six demo stages (with
re-entries) and Closed Won/Lost. Both jobs compute the same thing: for every deal and Bowtie stage
the first entry, the spell's end (first later stage entered, loss, or censoring at the as-of date),
the counts per stage, entry quarter and duration, and from them (shared numpy code) VM, the censored
conversion with its interval and the KM quartiles of time in stage per stage and quarter; plus the
sales cycle per creation quarter. *analysis s* is the computation alone (imports and opening the
store excluded; pandas: reading the Parquet files included); *process wall s* adds the imports.
winloss runs ``Bowtie().run(store)`` (everything the command
computes, nurture loop included); pandas reads the Parquet files and does the spells with
groupby/merge. Each job runs in its own process; memory is its peak RSS (VmHWM). Target ≤ 10 s and
≤ 2 GB for winloss.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from benchmarks._measure import measure  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
STAGES = ["Prospecting", "Qualification", "Discovery", "Demo", "Proposal", "Negotiation"]


def generate(deals: int, rows_per_deal: int) -> tuple[Path, Path, Path]:
    from winloss.store.duckdb_store import DuckDBStore

    DATA.mkdir(parents=True, exist_ok=True)
    db = DATA / f"bowtie_{deals}.duckdb"
    deals_pq = DATA / f"bowtie_{deals}_deals.parquet"
    history_pq = DATA / f"bowtie_{deals}_history.parquet"
    if db.exists() and deals_pq.exists() and history_pq.exists():
        return db, deals_pq, history_pq
    db.unlink(missing_ok=True)
    store = DuckDBStore(db)
    con = store.con
    # generating is not measured: let DuckDB build the 10M-row primary-key index in memory
    con.execute("SET memory_limit = '8GB'")
    con.execute("SET preserve_insertion_order = false")
    stage_list = "[" + ", ".join(f"'{s}'" for s in STAGES) + "]"
    con.execute(f"""
        INSERT INTO deals (deal_id, account_id, created_at, closed_at, outcome, stage, amount)
        WITH base AS (
          SELECT i, CAST(hash(i * 4 + 1) % 1000 AS BIGINT) AS h1,
                 CAST(hash(i * 4 + 2) % 100 AS BIGINT) AS h2,
                 CAST(hash(i * 4 + 3) % 6 AS BIGINT) AS h3,
                 CAST(hash(i * 4 + 4) % 200 AS BIGINT) AS h4
          FROM range({deals}) t(i)
        ), shaped AS (
          SELECT i, DATE '2023-01-01' + CAST(h1 AS INTEGER) AS created,
                 CASE WHEN h2 < 30 THEN 'won' WHEN h2 < 85 THEN 'lost' ELSE 'open' END AS outcome,
                 CASE WHEN h2 < 30 THEN 6 ELSE 1 + h3 END AS reached,
                 20 + h4 AS length
          FROM base
        )
        SELECT 'D' || i, 'A' || (i % {max(deals // 3, 1)}), created,
               CASE WHEN outcome <> 'open' THEN created + CAST(length AS INTEGER) END, outcome,
               CASE WHEN outcome = 'won' THEN 'Closed Won' WHEN outcome = 'lost'
                    THEN 'Closed Lost' ELSE {stage_list}[reached] END,
               100 + (i % 900)
        FROM shaped""")
    con.execute(f"""
        INSERT INTO stage_history (deal_id, stage, entered_at)
        WITH d AS (
          SELECT deal_id, created_at, outcome,
                 CASE WHEN outcome = 'won' THEN 6
                      ELSE 1 + CAST(hash(CAST(substr(deal_id, 2) AS BIGINT) * 4 + 3) % 6 AS BIGINT)
                 END AS reached,
                 coalesce(date_diff('day', created_at, closed_at), 60) AS length
          FROM deals
        )
        SELECT deal_id,
               CASE WHEN j = {rows_per_deal - 1} AND outcome = 'won' THEN 'Closed Won'
                    WHEN j = {rows_per_deal - 1} AND outcome = 'lost' THEN 'Closed Lost'
                    ELSE {stage_list}[1 + CAST(floor(j * reached / {rows_per_deal}) AS INTEGER)]
               END,
               CAST(created_at AS TIMESTAMP)
                 + to_days(CAST(floor(j * length / {rows_per_deal - 1}) AS INTEGER))
                 + to_minutes(CAST(j AS BIGINT))
        FROM d, range({rows_per_deal}) r(j)""")
    con.execute(f"COPY deals TO '{deals_pq}' (FORMAT parquet)")
    con.execute(f"COPY stage_history TO '{history_pq}' (FORMAT parquet)")
    store.close()
    return db, deals_pq, history_pq


WINLOSS_JOB = """
import json
from winloss.store.duckdb_store import DuckDBStore
from winloss.analyze.bowtie.analysis import Bowtie
import time
store = DuckDBStore({db!r}, read_only=True)
_start = time.perf_counter()
result = Bowtie(cohort="quarter").run(store)
_analysis = time.perf_counter() - _start
stages = result.stages.set_index("stage")
_extra = {{"analysis_s": _analysis, "volume": {{s: int(stages.loc[s, "volume"]) for s in ("awareness", "education",
                                                                  "selection", "commit")}},
          "conversion": {{s: float(stages.loc[s, "conversion"]) for s in ("awareness",
                                                                          "education",
                                                                          "selection")}},
          "cohort_rows": int(len(result.cohorts))}}
"""

PANDAS_JOB = """
import numpy as np
import pandas as pd
from winloss.analyze.bowtie.funnel import stage_tables
from winloss.analyze.bowtie.stages import PRE_SALE, StageMapping

import time
_start = time.perf_counter()
mapping = StageMapping.default()
deals = pd.read_parquet({deals!r}, columns=["deal_id", "created_at", "closed_at", "outcome"])
history = pd.read_parquet({history!r}, columns=["deal_id", "stage", "entered_at"])
names = pd.DataFrame(mapping.orders(history["stage"].unique()), columns=["stage", "ord"])
hist = history.merge(names, on="stage")
entries = hist[hist["ord"] >= 0].groupby(["deal_id", "ord"], as_index=False)["entered_at"].min()
won = deals[(deals["outcome"] == "won") & deals["closed_at"].notna()]
commit = pd.DataFrame({{"deal_id": won["deal_id"], "ord": 3,
                        "entered_at": pd.to_datetime(won["closed_at"])}})
entries = (pd.concat([entries, commit]).groupby(["deal_id", "ord"], as_index=False)["entered_at"]
           .min().sort_values(["deal_id", "ord"], ascending=[True, False]))
as_of = max(deals["created_at"].max(), deals["closed_at"].max())
as_of = pd.Timestamp(as_of)
entries = entries[entries["entered_at"] <= as_of]
nxt = entries.groupby("deal_id")["entered_at"].cummin()
entries["next_at"] = nxt.groupby(entries["deal_id"]).shift(1)
entries = entries.merge(deals, on="deal_id")
lost_at = pd.to_datetime(entries["closed_at"]).where(
    entries["next_at"].isna() & (entries["outcome"] == "lost"))
lost_at = lost_at.where(lost_at <= as_of)
stop = entries["next_at"].fillna(lost_at).fillna(as_of)
days = (stop - entries["entered_at"]).dt.days.clip(lower=0)
e = entries["entered_at"]
spells = pd.DataFrame({{"ord": entries["ord"], "cohort": e.dt.year.astype(str) + "Q"
                        + e.dt.quarter.astype(str), "days": days,
                        "advanced": entries["next_at"].notna().astype(int),
                        "lost": (entries["next_at"].isna() & lost_at.notna()).astype(int)}})
spells["censored"] = 1 - spells["advanced"] - spells["lost"]
counts = spells.groupby(["ord", "cohort", "days"], as_index=False)[
    ["advanced", "lost", "censored"]].sum()
pre, cohorts = stage_tables(counts, PRE_SALE, "pre", None)
c = deals[deals["created_at"].notna()].copy()
cd = pd.to_datetime(c["created_at"])
state = c["outcome"].where(~((c["outcome"] != "open") & (pd.to_datetime(c["closed_at"]) > as_of)),
                           "open")
cycle_days = (pd.to_datetime(c["closed_at"]).where(state != "open", as_of) - cd).dt.days
cycle = pd.DataFrame({{"cohort": cd.dt.year.astype(str) + "Q" + cd.dt.quarter.astype(str),
                      "days": cycle_days, "won": (state == "won").astype(int),
                      "lost": (state == "lost").astype(int),
                      "censored": (state == "open").astype(int)}}).groupby(
    ["cohort", "days"], as_index=False).sum()
_analysis = time.perf_counter() - _start
stages = pre.set_index("stage")
_extra = {{"analysis_s": _analysis, "volume": {{s: int(stages.loc[s, "volume"]) for s in ("awareness", "education",
                                                                  "selection", "commit")}},
          "conversion": {{s: float(stages.loc[s, "conversion"]) for s in ("awareness",
                                                                          "education",
                                                                          "selection")}},
          "cohort_rows": int(len(cohorts))}}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--rows-per-deal", type=int, default=10)
    args = parser.parse_args()
    db, deals_pq, history_pq = generate(args.deals, args.rows_per_deal)
    env_path = f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r})\n"
    ours = measure(env_path + WINLOSS_JOB.format(db=str(db)))
    theirs = measure(env_path + PANDAS_JOB.format(deals=str(deals_pq), history=str(history_pq)))
    same = ours["volume"] == theirs["volume"] and all(
        abs(ours["conversion"][k] - theirs["conversion"][k]) < 1e-9 for k in ours["conversion"]
    )
    print(f"deals {args.deals:,}, stage-history rows {args.deals * args.rows_per_deal:,}")
    print("| job | analysis s | process wall s | peak MB | time vs winloss | memory vs winloss |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in (
        ("winloss Bowtie (DuckDB SQL + numpy)", ours),
        ("pandas (read Parquet + groupby/merge, same numpy)", theirs),
    ):
        print(
            f"| {name} | {r['analysis_s']:.1f} | {r['seconds']:.1f} | {r['peak_mb']:,.0f} | "
            f"{r['analysis_s'] / ours['analysis_s']:.2f}× | "
            f"{r['peak_mb'] / ours['peak_mb']:.2f}× |"
        )
    print(f"same volumes and conversions: {same}")
    print(json.dumps({"winloss": ours, "pandas": theirs}, default=str))


if __name__ == "__main__":
    main()
