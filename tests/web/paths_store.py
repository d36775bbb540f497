"""A small store with activities for the next-actions page: two reps, two segments, two regions,
48 closed deals whose third action decides the outcome (demo mostly wins, proposal mostly loses)
and four open deals, one with markup in its account name and one action type with markup."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from tests.web.conftest import PASSWORDS, XSS
from winloss.web.auth import hash_password
from winloss.workspace import Workspace

MARKUP_ACTION = "<i>webinar</i>"
START = dt.datetime(2024, 1, 1, 9)


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    deals: list[dict[str, object]] = []
    acts: list[dict[str, object]] = []

    def add(
        deal_id: str,
        i: int,
        created: dt.datetime,
        path: list[str],
        outcome: str,
        account: str,
    ) -> None:
        deals.append(
            {
                "deal_id": deal_id,
                "account_name": account,
                "created_at": created,
                "closed_at": created + dt.timedelta(days=len(path)) if outcome != "open" else None,
                "outcome": outcome,
                "owner": "Ann Lee" if i % 2 == 0 else "Bob Roe",
                "segment": "SMB" if i % 4 < 2 else "Enterprise",
                "region": "EMEA" if (i // 4) % 2 == 0 else "AMER",
                "amount": 1000 + i,
            }
        )
        for j, action in enumerate(path):
            acts.append(
                {
                    "activity_id": f"{deal_id}-{j}",
                    "deal_id": deal_id,
                    "type": action,
                    "occurred_at": created + dt.timedelta(days=j),
                }
            )

    for i in range(48):
        third = "demo" if i % 3 else "proposal"
        won = (third == "demo") != (i % 5 == 0)
        path = ["email", "call", third]
        if i in (7, 30):
            path = ["email", "call", MARKUP_ACTION, third]
        add(f"C{i:02d}", i, START + dt.timedelta(days=i), path, "won" if won else "lost", "Co")
    last = START + dt.timedelta(days=60)
    # open deals: Ann's SMB/EMEA and Enterprise/AMER, Bob's the same
    add("O-A1", 0, last, ["email", "call"], "open", XSS)
    add("O-A2", 6, last, ["email"], "open", "Acme")
    add("O-B1", 1, last, ["email", "call"], "open", "Globex")
    add("O-B2", 7, last, ["email", "call"], "open", "Hooli")
    return pd.DataFrame(deals), pd.DataFrame(acts)


def build_paths_store(path: Path) -> None:
    deals, acts = frames()
    with Workspace(path) as ws:
        ws.import_deals(deals)
        ws.import_file("activities", acts)
        ws.add_user("boss", hash_password(PASSWORDS["boss"]), "manager")
        ws.add_user("ann", hash_password(PASSWORDS["ann"]), "rep", "Ann Lee")
        ws.add_user("bob", hash_password(PASSWORDS["bob"]), "rep", "Bob Roe")
