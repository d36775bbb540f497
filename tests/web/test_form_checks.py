"""The web forms refuse what a rep cannot mean, next to the field and in the rep's words.

A capture must give the primary reason (the win reason of a won deal, the loss reason of a lost
one); numbers and dates have sensible bounds; and the messages of the shared import validation
(cells, mappings, CLI flags) are said for a form. Deal A2 is Ann's, won, closed 2024-03-10;
A1 is Ann's, lost, closed 2024-03-01; the app's today is 2024-03-20 (see conftest).
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.html_tree import Element, parse_html
from tests.web.conftest import WebEnv, login, token
from winloss.errors import ValidationError
from winloss.web.forms import FORM_FIELDS
from winloss.workspace import Workspace

#: Words of the import's messages that mean nothing on a web form.
CLI_WORDS = re.compile(r"--|\bcell\b|mapping|value_maps|refunds|column", re.IGNORECASE)


def _refused(client: FlaskClient, url: str, answers: dict[str, str]) -> Element:
    """Submit the form at ``url``: the page shown again, asserting it was refused (HTTP 400)."""
    form = client.get(url).text
    resp = client.post(url, data={"csrf_token": token(form), **answers})
    assert resp.status_code == 400, f"HTTP {resp.status_code}: saved instead of refused"
    root, _doctype = parse_html(resp.text)
    return root


def _field_errors(root: Element) -> dict[str, str]:
    """Field name → the message shown next to it (the span the field's aria-describedby names)."""
    out: dict[str, str] = {}
    for label in root.find_all("label"):
        spans = [s for s in label.find_all("span") if s.attrs.get("class") == "field-error"]
        if not spans:
            continue
        span = spans[0]
        control = next(e for tag in ("input", "select", "textarea") for e in label.find_all(tag))
        assert control.attrs.get("aria-invalid") == "true"
        assert control.attrs.get("aria-describedby") == span.attrs["id"]
        out[str(control.attrs["name"])] = span.text
    return out


def _summary(root: Element) -> str:
    boxes = [d for d in root.find_all("div") if d.attrs.get("class") == "errors"]
    return boxes[0].text if boxes else ""


def _captures(web: WebEnv, deal_id: str) -> int:
    with Workspace(web.db) as ws:
        return len(ws.deal_captures(deal_id))


def _pending(client: FlaskClient) -> list[str]:
    return re.findall(r'href="/deals/([A-Z0-9]+)"', client.get("/captures").text)


@pytest.mark.parametrize(("deal_id", "words"), [("A2", "win reason"), ("A1", "loss reason")])
def test_an_empty_capture_is_refused_and_not_counted(web: WebEnv, deal_id: str, words: str) -> None:
    ann = login(web.app, "ann")
    blank = {f.name: "" for f in FORM_FIELDS}
    root = _refused(ann, f"/deals/{deal_id}/capture", blank)
    errors = _field_errors(root)
    assert list(errors) == ["primary_reason"]
    assert f"a capture needs at least the {words}" in errors["primary_reason"]
    assert "Not saved" in _summary(root) and words in _summary(root)
    # answers without a reason are refused too, and the answer given is kept on the form
    root = _refused(ann, f"/deals/{deal_id}/capture", {**blank, "pain_category": "ux"})
    assert list(_field_errors(root)) == ["primary_reason"]
    assert "selected" in root.find("option", value="ux").attrs
    assert _captures(web, deal_id) == 0
    assert deal_id in _pending(ann)
    coverage = login(web.app, "boss").get("/coverage").text
    assert re.search(r"Ann Lee</a></td><td class=\"num\">2</td><td class=\"num\">0</td>", coverage)
    # the reason alone is a capture
    resp = ann.post(
        f"/deals/{deal_id}/capture",
        data={"csrf_token": token(ann.get("/captures").text), **blank, "primary_reason": "Fit"},
    )
    assert resp.status_code == 302
    assert _captures(web, deal_id) == 1 and deal_id not in _pending(ann)


def test_an_empty_buyer_interview_is_refused(web: WebEnv) -> None:
    boss = login(web.app, "boss")
    root = _refused(boss, "/deals/A1/interview", {"interviewee": "Jo, CFO"})
    assert "loss reason" in _field_errors(root)["primary_reason"]
    assert _captures(web, "A1") == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("impact_value", "999999999999999999999999", "more than 1,000,000,000,000: check the"),
        ("impact_value", "1e309", "more than 1,000,000,000,000: check the number"),
        ("stakeholders", "99999999999999", "more than 1,000: check the number"),
        ("stakeholders", "1001", "more than 1,000: check the number"),
        (
            "champion_start_date",
            "2099-01-01",
            "after 2024-03-20 (today): this date cannot be later",
        ),
        ("champion_start_date", "2024-03-21", "after 2024-03-20"),
        ("champion_start_date", "1850-06-01", "before 1900: check the year"),
        # typed by hand: one value cannot say whether it is day or month first
        ("champion_start_date", "03/04/2023", "reads as 2023-03-04 or 2023-04-03: use the date"),
        ("critical_event_date", "31/12/2024", "not a date: use the date picker or YYYY-MM-DD"),
        ("champion_start_date", "2023-02-30", "not a date: use the date picker or YYYY-MM-DD"),
        ("critical_event_date", "2099-01-01", "more than 10 years from the close (2024-03-10)"),
        ("critical_event_date", "2014-03-09", "more than 10 years from the close"),
        ("champion_title", "x" * 501, "501 characters: keep it to 500"),
    ],
)
def test_absurd_values_are_refused(web: WebEnv, field: str, value: str, message: str) -> None:
    ann = login(web.app, "ann")
    root = _refused(ann, "/deals/A2/capture", {"primary_reason": "Fit", field: value})
    errors = _field_errors(root)
    assert list(errors) == [field] and message in errors[field]
    assert _captures(web, "A2") == 0


def test_values_at_the_bounds_are_saved(web: WebEnv) -> None:
    ann = login(web.app, "ann")
    answers = {
        "primary_reason": "Fit",
        "impact_value": "1,000,000,000,000",
        "stakeholders": "1000",
        "champion_start_date": "2024-03-20",  # today: after the close, not in the future
        "critical_event_date": "2034-03-10",  # ten years after the close
    }
    form = ann.get("/deals/A2/capture").text
    resp = ann.post("/deals/A2/capture", data={"csrf_token": token(form), **answers})
    assert resp.status_code == 302, resp.text
    with Workspace(web.db) as ws:
        deal = ws.deal("A2")
    assert deal is not None
    assert deal["impact_value"] == 1e12 and deal["stakeholders"] == 1000
    long = login(web.app, "ann")
    form = long.get("/deals/A1/capture").text
    answers = {"primary_reason": "Price", "champion_title": "y" * 500, "notes": "z" * 5000}
    resp = long.post("/deals/A1/capture", data={"csrf_token": token(form), **answers})
    assert resp.status_code == 302, resp.text  # 500 characters, and long notes, are kept
    assert str(deal["critical_event_date"])[:10] == "2034-03-10"


def test_form_messages_speak_to_a_rep(web: WebEnv) -> None:
    ann = login(web.app, "ann")
    root = _refused(
        ann,
        "/deals/A2/capture",
        {
            "impact_value": "-5",
            "stakeholders": "2.5",
            "champion_start_date": "31/31/2023",
            "pain_category": "astrology",
            "decision_maker_engaged": "maybe",
        },
    )
    errors = _field_errors(root)  # every problem of the submission at once
    assert errors == {
        "impact_value": "must be 0 or more",
        "stakeholders": "must be a whole number, such as 3",
        "champion_start_date": "not a date: use the date picker or YYYY-MM-DD",
        "pain_category": "choose one of: technology, process, ux, cost, compliance, other",
        "decision_maker_engaged": "choose yes or no",
        "primary_reason": "a capture needs at least the win reason: say why the deal was won",
    }
    summary = _summary(root)
    assert "Size of the impact: must be 0 or more" in summary
    assert not CLI_WORDS.search(summary), summary
    assert _captures(web, "A2") == 0


def test_the_shared_validation_messages_are_translated(web: WebEnv) -> None:
    """The fallback for a problem only the store's validation finds: the import's own message
    (which speaks of cells and CLI flags, and must stay so for the CLI) said for a form."""
    from winloss.web.form_checks import web_problem

    bad = {
        "impact_value": "-5",
        "stakeholders": "2.5",
        "critical_event_date": "someday",
        "pain_category": "astrology",
        "criteria_co_created": "maybe",
    }
    with Workspace(web.db) as ws, pytest.raises(ValidationError) as caught:
        ws.record_capture("A2", "rep", bad, captured_by="ann")
    problems = {p.column: p for p in caught.value.problems}
    assert set(problems) == set(bad)
    assert CLI_WORDS.search(" ".join(p.problem for p in problems.values()))
    said = {name: web_problem(p) for name, p in problems.items()}
    assert said == {
        "impact_value": "must be 0 or more",
        "stakeholders": "must be a whole number, such as 3",
        "critical_event_date": "not a date: use the date picker or YYYY-MM-DD",
        "pain_category": "choose one of: technology, process, ux, cost, compliance, other",
        "criteria_co_created": "choose yes or no",
    }


def _users_errors(client: FlaskClient, data: dict[str, str]) -> tuple[int, list[str]]:
    page = client.get("/users").text
    resp = client.post("/users", data={"csrf_token": token(page), **data})
    if resp.status_code != 400:
        return resp.status_code, []
    root, _doctype = parse_html(resp.text)
    boxes = [d for d in root.find_all("div") if d.attrs.get("class") == "errors"]
    return resp.status_code, [p.text for p in boxes[0].find_all("p")] if boxes else []


def test_user_form_says_every_problem_in_web_words(web: WebEnv) -> None:
    admin = login(web.app, "root")
    with Workspace(web.db) as ws:
        before = len(ws.users())
    status, errors = _users_errors(admin, {"username": " ", "password": "short", "role": "rep"})
    assert status == 400
    assert errors == [
        "a user name is required",
        "the password needs at least 8 characters",
        "a rep needs an owner (the CRM owner name their deals carry)",
    ]
    status, errors = _users_errors(
        admin, {"username": "cara", "password": "cara-pass-1", "role": "rep", "owner": ""}
    )
    assert status == 400
    assert errors == ["a rep needs an owner (the CRM owner name their deals carry)"]
    status, errors = _users_errors(
        admin, {"username": "cara", "password": "cara-pass-1", "role": "boss"}
    )
    assert status == 400 and errors == ["choose a role: admin, manager, rep"]
    with Workspace(web.db) as ws:
        assert len(ws.users()) == before


def test_a_reason_only_ever_given_to_the_other_outcome_asks_to_be_kept(web: WebEnv) -> None:
    """A2 was won; "Timing" is B1's loss reason (CRM and captures) and never a win reason."""
    ann = login(web.app, "ann")
    form = ann.get("/deals/A2/capture").text
    root, _doctype = parse_html(form)
    suggested = [o.attrs["value"] for o in root.find("datalist", id="reasons").find_all("option")]
    # the won deals' reasons only, most used first: Price (B2), Product fit (A2)
    assert suggested == ["Price", "Product fit"]
    root = _refused(ann, "/deals/A2/capture", {"primary_reason": "timing"})
    message = _field_errors(root)["primary_reason"]
    # named as the store spells it ("timing" is the store's "Timing")
    assert message.startswith("“Timing” has been the loss reason of 1 lost deal ")
    assert "never a win reason" in message and "keep this reason" in message
    assert root.find("input", name="keep_reason") is not None
    assert _captures(web, "A2") == 0
    # a reason given to both outcomes is not questioned; the rep may keep a mismatched one
    for reason, keep in (("Price", {}), ("Timing", {"keep_reason": "yes"})):
        resp = ann.post(
            "/deals/A2/capture",
            data={"csrf_token": token(form), "primary_reason": reason, **keep},
        )
        assert resp.status_code == 302, resp.text
    with Workspace(web.db) as ws:
        assert ws.deal("A2")["win_reason"] == "Timing"


def test_the_rep_form_records_only_what_the_rep_gives(web: WebEnv) -> None:
    """CRM values are hints, kept when a field is left blank, never saved as the rep's answer."""
    ann = login(web.app, "ann")
    form = ann.get("/deals/A1/capture").text
    root, _doctype = parse_html(form)
    pain = root.find("select", name="pain_category")
    assert not any("selected" in o.attrs for o in pain.find_all("option"))
    assert root.find("input", name="primary_reason").attrs.get("value") == ""
    hints = [s.text for s in root.find_all("span") if s.attrs.get("class") == "hint"]
    assert "CRM: cost" in hints and "CRM: Price" in hints
    resp = ann.post(
        "/deals/A1/capture", data={"csrf_token": token(form), "primary_reason": "Price"}
    )
    assert resp.status_code == 302
    with Workspace(web.db) as ws:
        sources = ws.field_sources("A1").set_index("field")["source"]
        deal = ws.deal("A1")
    assert sources["loss_reason"] == "rep" and sources["pain_category"] == "crm"
    assert deal["pain_category"] == "cost"
    # the rep's own answers are filled in next time
    again, _doctype = parse_html(ann.get("/deals/A1/capture").text)
    assert again.find("input", name="primary_reason").attrs.get("value") == "Price"


def test_a_buyer_interview_starts_empty(web: WebEnv) -> None:
    """B1 has a rep capture (cost, Price) and a buyer interview: the next interview form shows
    neither, so saving it cannot record the rep's answers as the buyer's."""
    boss = login(web.app, "boss")
    form = boss.get("/deals/B1/interview").text
    root, _doctype = parse_html(form)
    for select in root.find_all("select"):
        assert not any("selected" in o.attrs for o in select.find_all("option")), select.attrs
    for field in root.find_all("input"):
        if field.attrs.get("name") not in ("csrf_token", "form_id"):  # hidden, not answers
            assert not field.attrs.get("value"), field.attrs
    assert not [s for s in root.find_all("span") if s.attrs.get("class") == "hint"]
    before = _captures(web, "B1")
    _refused(boss, "/deals/B1/interview", {})  # submitting it unchanged saves nothing
    assert _captures(web, "B1") == before


def test_the_rep_form_says_which_field_cannot_be_left_blank(web: WebEnv) -> None:
    """The note says a blank field keeps the CRM's value; the main reason is required all the
    same (a capture that says nothing is refused), so the note says so."""
    ann = login(web.app, "ann")
    root, _ = parse_html(ann.get("/deals/A2/capture").text)
    note = next(p for p in root.iter("p") if "leave blank keeps it" in p.text)
    assert "The main reason is the one answer every capture gives" in note.text
    required = [i.attrs.get("name") for i in root.iter("input") if "required" in i.attrs]
    assert required == ["primary_reason"]
