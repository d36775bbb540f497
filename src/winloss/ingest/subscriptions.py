"""Checks of a subscriptions file that no single cell shows.

A subscriptions row is an event in an account's recurring revenue: ``mrr`` is the monthly
recurring revenue *from* ``period_start`` on (so a churn row carries 0), and an account's life
starts with a ``new`` row. A one-row-per-subscription export (Stripe's: start date, cancel date,
MRR) mapped straight onto these columns gives churn rows that carry the subscription's MRR at its
*start* date, and accounts that never start: the Bowtie then read 6 churned customers as GRR
100 %. Such files are refused, naming the rows and the way to write them.
"""

from __future__ import annotations

import pandas as pd

from winloss.errors import CellProblem, ValidationError
from winloss.model.prepared_import import PreparedImport

_WAY = (
    "In winloss each row is an event and its mrr the recurring revenue from that date on: a "
    "subscription is a 'new' row at its start (with its MRR) and, if cancelled, a 'churn' row "
    "at the cancel date with mrr 0 (docs/bowtie.md, 'Subscriptions')"
)


def check_subscriptions(prepared: PreparedImport, known: pd.Series) -> None:
    """Refuse churn rows that carry revenue, and accounts whose first event is a churn with no
    earlier row in the file or any row in the store.

    ``known``: accounts that already have subscription rows in the store (a store whose history
    starts with a renewal still knows the account).
    """
    frame = prepared.frame
    if prepared.table.name != "subscriptions" or frame.empty:
        return
    rows = prepared.row_numbers or [i + 2 for i in range(len(frame))]
    label_mrr = prepared.mapped.get("mrr", "mrr")
    label_event = prepared.mapped.get("event", "event")
    event = frame["event"].astype("string")
    mrr = pd.to_numeric(frame["mrr"], errors="coerce")
    problems: list[CellProblem] = []
    for i in frame.index[(event == "churn") & (mrr > 0)]:
        problems.append(
            CellProblem(
                rows[i],
                label_mrr,
                f"{mrr[i]:g}",
                "a churn row carries the revenue after the churn, so 0",
            )
        )
    stored = set(known.astype("string").dropna())
    order = frame.assign(_e=event).sort_values(["account_id", "period_start"], kind="stable")
    first = order.groupby("account_id", sort=False).head(1)
    for i, r in first.iterrows():
        acc = str(r["account_id"])
        if r["_e"] == "churn" and acc not in stored:
            problems.append(
                CellProblem(
                    rows[int(str(i))],
                    label_event,
                    "churn",
                    f"account {acc} churns without ever starting (no earlier row)",
                )
            )
    if problems:
        problems.sort(key=lambda p: p.row)
        raise ValidationError(prepared.file, problems, hint=_WAY + ".")
