"""Capture: pending deals, the SPICED form, buyer interviews, coverage, agreement, planner."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from winloss.errors import ValidationError, WinlossError
from winloss.web import access
from winloss.web.auth import SentForms, User, requires
from winloss.web.form_checks import ReasonUse, check_capture, known_spelling, web_problem
from winloss.web.forms import answers, form_fields

bp = Blueprint("capture", __name__)
ANY = ("admin", "manager", "rep")
MANAGERS = ("admin", "manager")


def _db() -> str:
    return str(current_app.config["WINLOSS_DB"])


def _today() -> dt.date:
    today: dt.date = current_app.extensions["winloss_today"]()
    return today


def _user() -> User:
    user: User = g.user
    return user


def _records(frame: Any) -> list[dict[str, Any]]:
    import pandas as pd

    return [
        {
            k: (None if (not isinstance(v, (list, tuple)) and pd.isna(v)) else v)
            for k, v in r.items()
        }
        for r in frame.to_dict(orient="records")
    ]


@bp.route("/")
@requires(*ANY)
def home() -> Any:
    if _user().role == "rep":
        return redirect(url_for("capture.pending"))
    return redirect(url_for("capture.coverage"))


@bp.route("/captures")
@requires(*ANY)
def pending() -> Any:
    user = _user()
    owner = user.owner_name if user.role == "rep" else (request.args.get("owner") or None)
    days = int(current_app.config["FRESHNESS_DAYS"])
    with access.workspace(_db()) as ws:
        frame = ws.pending_captures(owner, freshness_days=days, today=_today())
        owners = ws.owners() if user.role != "rep" else []
    if user.role == "rep" and not user.owner_name:
        frame = frame.iloc[0:0]
    return render_template(
        "pending.html", user=user, rows=_records(frame), days=days, owner=owner, owners=owners
    )


def _load(ws: Any, deal_id: str) -> dict[str, Any]:
    """The deal (captures applied) if the user may see it: 404 unknown, 403 someone else's."""
    crm = ws.crm_deal(deal_id)
    if crm is None:
        abort(404, description=f"no deal {deal_id!r} in the store")
    if not _user().can_see_owner(crm.get("owner")):
        abort(403, description="this deal belongs to another rep")
    deal: dict[str, Any] = ws.deal(deal_id)
    return deal


@bp.route("/deals/<deal_id>")
@requires(*ANY, deal_owner=True)
def deal(deal_id: str) -> Any:
    with access.workspace(_db()) as ws:
        d = _load(ws, deal_id)
        crm = ws.crm_deal(deal_id)
        sources = _records(ws.field_sources(deal_id))
        caps = _records(ws.deal_captures(deal_id))
    for s in sources:
        s["value"] = _shown(d.get(s["field"]))
        s["crm"] = _shown(crm.get(s["field"])) if crm else None
    return render_template("deal.html", user=_user(), deal=d, sources=sources, captures=caps)


def _shown(value: Any) -> Any:
    """A stored value as a person reads it: 2023-02-26 (not 2023-02-26 00:00:00), 618,100 (not
    618100.0); ``None`` stays ``None``."""
    import datetime as dt

    import numpy as np
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()[:16]
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}"
    return value


def _capture_form(deal_id: str, respondent: str) -> Any:
    user = _user()
    errors: list[str] = []
    field_errors: dict[str, str] = {}
    status = 200
    with access.workspace(_db()) as ws:
        d = _load(ws, deal_id)
        if d.get("outcome") not in ("won", "lost"):
            abort(400, description="only closed deals are captured")
        use = ReasonUse.of(ws.reason_use())
        submitted: dict[str, str] | None = None
        ask_keep = False
        # one id per form shown: the same form sent twice is saved once (kept when the form
        # comes back with errors, so the corrected form is still that one)
        form_id = request.form.get("form_id", "") or secrets.token_urlsafe(16)
        if request.method == "POST":
            submitted = {k: str(v) for k, v in request.form.items()}
            given = known_spelling(
                answers(submitted, respondent=respondent), use, ws.competitor_names()
            )
            field_errors = check_capture(
                d,
                given,
                today=_today(),
                reasons=use,
                keep_reason=submitted.get("keep_reason") == "yes",
            )
            ask_keep = use.mismatch(d.get("outcome"), given.get("primary_reason", "")) is not None
            if not field_errors:
                sent: SentForms = current_app.extensions["winloss_sent_forms"]
                try:
                    saved = sent.once(
                        form_id,
                        lambda: ws.record_capture(
                            deal_id, respondent, given, captured_by=_user().username
                        ),
                    )
                except ValidationError as exc:
                    field_errors = {p.column: web_problem(p) for p in exc.problems}
                    errors = [] if field_errors else [str(exc)]
                except WinlossError as exc:
                    errors = [str(exc)]
                else:
                    done = "Capture" if respondent == "rep" else "Buyer interview"
                    flash(
                        f"{done} of {deal_id} saved."
                        if saved
                        else f"{done} of {deal_id} was already saved: the form was sent twice, "
                        "and is kept once."
                    )
                    return redirect(
                        url_for("capture.pending")
                        if respondent == "rep"
                        else url_for("capture.deal", deal_id=deal_id)
                    )
            status = 400
        groups = form_fields(
            d,
            submitted,
            use.for_outcome(d.get("outcome")),
            field_errors,
            respondent=respondent,
            crm=ws.crm_deal(deal_id),
            previous=_previous(ws, deal_id) if respondent == "rep" else None,
            ask_keep=ask_keep,
            competitors=ws.competitor_names(),
        )
    errors += [f"{f.label}: {f.error}" for _title, fields in groups for f in fields if f.error]
    if field_errors.get("interviewee"):  # asked above the groups, on the buyer form
        errors.append(f"Interviewee: {field_errors['interviewee']}")
    return render_template(
        "capture.html",
        user=user,
        deal=d,
        groups=groups,
        errors=errors,
        respondent=respondent,
        form_id=form_id,
    ), status


def _previous(ws: Any, deal_id: str) -> dict[str, Any]:
    """The rep's own latest answer per field (the rep form starts from them)."""
    import pandas as pd

    caps = ws.deal_captures(deal_id)  # latest first
    mine: dict[str, Any] = {}
    for rec in caps[caps["respondent"] == "rep"].to_dict(orient="records"):
        for name, value in rec.items():
            if (
                name not in mine
                and value is not None
                and not (not isinstance(value, (list, tuple)) and pd.isna(value))
            ):
                mine[name] = value
    return mine


@bp.route("/deals/<deal_id>/capture", methods=["GET", "POST"])
@requires(*ANY, deal_owner=True)
def capture(deal_id: str) -> Any:
    return _capture_form(deal_id, "rep")


@bp.route("/deals/<deal_id>/interview", methods=["GET", "POST"])
@requires(*MANAGERS, deal_owner=True)
def interview(deal_id: str) -> Any:
    return _capture_form(deal_id, "buyer")


@bp.route("/coverage")
@requires(*MANAGERS)
def coverage() -> Any:
    from winloss.analyze.stats.exact_tests import wilson_interval

    days = int(current_app.config["FRESHNESS_DAYS"])
    with access.workspace(_db()) as ws:
        frame = ws.capture_coverage(freshness_days=days)
        pending = ws.pending_captures(None, freshness_days=days, today=_today())
        counts = ws.field_source_counts()
    sources = []
    if not counts.empty:
        wide = counts.pivot_table(
            index="field", columns="source", values="deals", aggfunc="sum", fill_value=0
        )
        for name, rec in wide.iterrows():
            sources.append(
                {"field": name, **{s: int(rec.get(s, 0)) for s in ("buyer", "rep", "crm", "blank")}}
            )
    overdue = (
        pending[pending["days_left"] < 0].groupby("owner").size().to_dict()
        if not pending.empty
        else {}
    )
    rows = _records(frame)
    for r in rows:
        n = int(r["closed"])
        r["rate"] = r["captured"] / n if n else None
        lo, hi = wilson_interval(int(r["captured"]), n)
        r["ci"] = (float(lo), float(hi)) if n else None
        r["fresh_rate"] = r["fresh"] / n if n else None
        r["overdue"] = int(overdue.get(r["owner"], 0))
    return render_template("coverage.html", user=_user(), rows=rows, days=days, sources=sources)


@bp.route("/agreement")
@requires(*MANAGERS)
def agreement() -> Any:
    with access.workspace(_db()) as ws:
        result = ws.capture_agreement()
    return render_template("agreement.html", user=_user(), result=result)


@bp.route("/interviews/plan")
@requires(*MANAGERS)
def interview_plan() -> Any:
    with access.workspace(_db()) as ws:
        result = ws.interview_plan(today=_today())
    return render_template("plan.html", user=_user(), result=result)
