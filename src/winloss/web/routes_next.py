"""Next best actions per rep: each open deal with its ranked next actions (``/next-actions``).

A rep sees their own open deals; managers and admins see every rep's, or one rep's with
``?owner=``. The deals shown can be narrowed by segment, region and industry (the market). The
ranking is :class:`winloss.analyze.paths.analysis.NextAction` through the facade: the model is
fitted on every deal (per segment, shrunk towards the pooled chain), the filters only choose which
open deals are listed. No SQL here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request

from winloss.analyze.paths.analysis import BOOTSTRAP
from winloss.errors import WinlossError
from winloss.web import access
from winloss.web.auth import User, requires

bp = Blueprint("next", __name__)

#: The deal columns the page filters on, with their labels (shown when any open deal has a value).
FILTERS: tuple[tuple[str, str], ...] = (
    ("segment", "Segment"),
    ("region", "Region"),
    ("industry", "Industry (market)"),
)
#: Candidate actions shown per deal (the bootstrap replicates are the chains' default).
TOP_ACTIONS = 3
#: At most this many deals on one page (the ranking runs per request).
MAX_DEALS = 200


def _text(value: Any) -> str | None:
    import pandas as pd

    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


@bp.route("/next-actions")
@requires("admin", "manager", "rep")
def next_actions() -> Any:
    user: User = g.user
    owner = user.owner_name if user.role == "rep" else (request.args.get("owner") or None)
    chosen = {col: request.args.get(col) or None for col, _ in FILTERS}
    notes: list[str] = []
    deals: list[dict[str, Any]] = []
    options: dict[str, list[str]] = {}
    owners: list[str] = []
    caveat = ""
    with access.workspace(str(current_app.config["WINLOSS_DB"])) as ws:
        frame = ws.deals(closed_only=False)
        # per-segment chains (shrunk towards the pooled one) when the deals have segments
        by = "segment" if frame["segment"].notna().any() else None
        frame = frame[frame["outcome"] == "open"]
        if user.role == "rep":
            # a rep without a CRM owner name has no deals of their own
            frame = frame[frame["owner"] == owner] if owner else frame.iloc[0:0]
        else:
            owners = sorted({str(o) for o in frame["owner"].dropna()})
            if owner:
                frame = frame[frame["owner"] == owner]
        for col, _ in FILTERS:
            values = sorted({str(v) for v in frame[col].dropna()})
            if values:
                options[col] = values
            if chosen[col]:
                frame = frame[frame[col].astype("string") == chosen[col]]
        if len(frame) > MAX_DEALS:
            notes.append(
                f"{len(frame):,} open deals match; the {MAX_DEALS} created most recently are "
                "shown — choose a rep or a filter to see the others"
            )
            frame = frame.sort_values("created_at", kind="stable").iloc[-MAX_DEALS:]
        ids = tuple(str(d) for d in frame["deal_id"])
        if ids:
            try:
                result = ws.next_action(ids, by=by, top=TOP_ACTIONS, bootstrap=BOOTSTRAP)
            except WinlossError as exc:
                notes.append(str(exc))
            else:
                caveat = result.caveat
                notes += list(result.warnings)
                deals = _deal_rows(frame, result.candidates)
    labels = {col: label for col, label in FILTERS if col in options}
    return render_template(
        "next_actions.html",
        user=user,
        owner=owner,
        owners=owners,
        chosen=chosen,
        options=options,
        labels=labels,
        deals=deals,
        notes=notes,
        caveat=caveat,
        top=TOP_ACTIONS,
        bootstrap=BOOTSTRAP,
    )


def _deal_rows(frame: Any, candidates: Any) -> list[dict[str, Any]]:
    by_deal = {str(k): v for k, v in candidates.groupby("deal_id", sort=False)}
    rows: list[dict[str, Any]] = []
    for d in frame.itertuples(index=False):
        cand = by_deal.get(str(d.deal_id))
        actions = [] if cand is None else cand.sort_values("rank").to_dict(orient="records")
        first = actions[0] if actions else None
        rows.append(
            {
                "deal_id": str(d.deal_id),
                "account_name": _text(d.account_name),
                "owner": _text(d.owner),
                "segment": _text(d.segment),
                "region": _text(d.region),
                "industry": _text(d.industry),
                "state": first["state"] if first else None,
                "p_win_now": first["p_win_now"] if first else None,
                "now_low": first["now_low"] if first else None,
                "now_high": first["now_high"] if first else None,
                "actions": actions,
            }
        )
    return rows
