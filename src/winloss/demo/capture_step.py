"""Demo step: buyer interviews, rep vs buyer agreement, the interview plan and the web app's users.

Planted in the buyer interviews (a seeded sample of 25 % of the closed, rep-captured deals):
on lost deals where the rep's reason is "Price", the buyer names another loss reason 60 % of the
time (reps over-state price, the classic finding); on every other deal the buyer gives the rep's
reason 85 % of the time and another reason of the same outcome otherwise. The buyer's pain
category equals the rep's 80 % of the time. Buyer answers take precedence, so these deals'
SPICED fields and reasons change: :func:`import_buyer_interviews` runs with the demo's import,
before any step, so every step (the store summary's counts included) sees the finished store.

Demo users (local demo only — change them for real use): ``admin``/``demo-admin``,
``manager``/``demo-manager`` and one rep per CRM owner of the first two owners,
``rep1``/``demo-rep1`` and ``rep2``/``demo-rep2``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from winloss.model.schema import PAIN_CATEGORIES

if TYPE_CHECKING:
    from winloss.demo.run import DemoOptions
    from winloss.workspace import Workspace

LOSS = ["Price", "No decision", "Lost to competitor", "Timing", "Missing features"]
WIN = ["Product fit", "Relationship", "Price", "Time to value"]
SAMPLE = 0.25


def buyer_interviews(captures: pd.DataFrame, deals: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Buyer interviews for a sample of rep-captured closed deals (planted effects above)."""
    rng = np.random.default_rng(seed + 12)
    reps = captures[captures["respondent"] == "rep"].sort_values("deal_id")
    reps = reps.drop_duplicates("deal_id", keep="last")
    outcome = deals.set_index("deal_id")["outcome"]
    reps = reps[reps["deal_id"].map(outcome).isin(["won", "lost"])]
    pick = reps[rng.random(len(reps)) < SAMPLE].copy()
    rows = []
    for rec in pick.to_dict(orient="records"):
        lost = outcome[rec["deal_id"]] == "lost"
        pool = LOSS if lost else WIN
        rep_reason = rec["primary_reason"]
        p_agree = 0.40 if lost and rep_reason == "Price" else 0.85
        agree = rng.random() < p_agree
        reason = (
            rep_reason
            if agree or pd.isna(rep_reason)
            else rng.choice([r for r in pool if r != rep_reason])
        )
        pain = rec["pain_category"]
        if pd.isna(pain) or rng.random() >= 0.80:
            pain = rng.choice([p for p in PAIN_CATEGORIES if p != pain])
        rows.append(
            {
                "deal_id": rec["deal_id"],
                "captured_at": pd.Timestamp(rec["captured_at"]) + pd.Timedelta(days=14),
                "respondent": "buyer",
                "pain_category": pain,
                "primary_reason": reason,
                "stakeholders": rec["stakeholders"],
                "decision_maker_engaged": rec["decision_maker_engaged"],
                "captured_by": "demo interviewer",
            }
        )
    return pd.DataFrame(rows)


DEMO_USERS = (("admin", "demo-admin", "admin", None), ("manager", "demo-manager", "manager", None))


def import_buyer_interviews(ws: Workspace, seed: int) -> int:
    """Import the demo's buyer interviews (drawn from the imported rep captures); how many."""
    interviews = buyer_interviews(ws.table("captures"), ws.deals(), seed)
    if not interviews.empty:
        ws.import_file("captures", interviews, on_duplicate="keep-last")
    return len(interviews)


def capture_and_interviews(ws: Workspace, options: DemoOptions) -> str:
    """Create the demo users, show the buyer interviews (imported with the demo's data, before
    any step: see :func:`winloss.demo.run.run_demo`), agreement and the plan."""
    from winloss.web.auth import hash_password

    captures = ws.table("captures")
    interviews = int(captures["respondent"].eq("buyer").sum())
    owners = ws.owners()
    users = list(DEMO_USERS) + [
        (f"rep{i + 1}", f"demo-rep{i + 1}", "rep", o) for i, o in enumerate(owners[:2])
    ]
    for name, password, role, owner in users:
        ws.add_user(name, hash_password(password), role, owner)
    agreement = ws.capture_agreement()
    reason = agreement.fields[agreement.fields["field"] == "primary_reason"]
    lines = [
        f"{interviews} buyer interviews imported with the demo data, beside "
        f"{len(captures) - interviews} rep captures (buyer answers take precedence)."
    ]
    if not reason.empty:
        r = reason.iloc[0]
        lines.append(
            f"rep vs buyer on the primary reason: {r['agreement']:.0%} agree "
            f"({r['ci_low']:.0%}–{r['ci_high']:.0%}, {int(r['deals'])} deals)"
        )
    for rec in agreement.by_reason.to_dict(orient="records"):
        if rec["verdict"] != "no evidence":
            lines.append(
                f"  {rec['reason']}: {rec['verdict']} (reps {rec['rep']}, buyers "
                f"{rec['buyer']}, q = {rec['q_value']:.3f})"
            )
    plan = ws.interview_plan(today=options.as_of, limit=3)
    lines.append("next buyer interviews:")
    lines += [
        f"  {r['rank']}. {r['deal_id']} ({r['outcome']}, {r['owner']}): {r['reasons']}"
        for r in plan.deals.to_dict(orient="records")
    ]
    lines.append(
        "web app: `winloss serve`, then open http://127.0.0.1:8765/ and sign in as "
        "(local demo only):"
    )
    lines += [f"  {n} / {p} ({role}{', deals of ' + o if o else ''})" for n, p, role, o in users]
    return "\n".join(lines)
