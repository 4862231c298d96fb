"""How a case reads on a page: stage names, who is handling it, how urgent it is, what changed.

Pure functions over rows and the loaded pack, shared by the enterprise's and the reviewers'
pages so both describe the same case in the same words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from portal.city import City
from portal.clock import Clock
from portal.db.tables import Application, ApplicationAnswers, Enterprise, Transition
from portal.forms import FieldSpec, FormSpec
from portal.rules import Pack
from portal.rules.trace_rows import TraceRow, numbers, trace_rows
from portal.services.amendments import RETURN_EVENT
from portal.services.case_files import SlotChange
from portal.services.context import Portal
from portal.services.grants import Withdrawn
from portal.web.application_steps import answer_text
from portal.web.i18n import Translator
from portal.workflows import StateSpec, Workflow, WorkingCalendar
from portal.workflows.sla import reply_due_on, timer_due_on, timer_last_day

# Working days left at which a case counts as near its deadline (coloured amber in queues).
NEAR_DEADLINE_WORKING_DAYS = 2


# Events whose comment is a reason the enterprise must read (returns, rejections, objections upheld).
def label(text: Any, lang: str) -> str:
    """A zh/en pair from any engine (workflow Label, forms Text, rules dict) in `lang`."""
    if isinstance(text, Mapping):
        return str(text.get(lang) or text.get("zh") or "")
    return str(getattr(text, "en" if lang == "en" else "zh"))


def measure_title(pack: Pack, measure_id: str, lang: str) -> str:
    versions = pack.versions(measure_id)
    return versions[-1].title.get(lang) if versions else measure_id


def fact_labels(pack: Pack, names: Iterable[str], lang: str) -> list[str]:
    """Qualified fact names as their labels, for people (a name the pack lacks is left out)."""
    specs = [pack.facts.get(name) for name in names]
    return [spec.label.get(lang) for spec in specs if spec is not None]


def district_label(city: City, district: str | None, lang: str) -> str:
    return city.jurisdictions.label(district, lang)


def unit_label(pack: Pack, unit: str | None, lang: str) -> str:
    names = pack.units.get(unit or "")
    return names.get(lang, unit or "") if names else (unit or "")


def responsible_label(
    workflow: Workflow, application: Application, pack: Pack, city: City, t: Translator
) -> str:
    """Who has the case now, named concretely: the district's handling unit (the pack's
    `jurisdictions.units`, else the district), the lead bureau by name, you."""
    party = workflow.state(application.state).responsible
    if party == "district":
        return city.jurisdictions.unit(application.district, t.lang)
    if party == "bureau":
        return unit_label(pack, application.lead_unit, t.lang)
    return t(f"party.{party}" if party else "party.none")


def urgency(application: Application, calendar: WorkingCalendar, today: dt.date) -> str:
    """`overdue`, `soon` (within NEAR_DEADLINE_WORKING_DAYS), `paused` (the clock waits for the
    enterprise's amendment: never late) or `ok`."""
    if application.due_on is None:
        return "ok"
    if application.sla_paused_at is not None:
        return "paused"
    if application.overdue or today > application.due_on:
        return "overdue"
    if calendar.working_days_between(today, application.due_on) <= NEAR_DEADLINE_WORKING_DAYS:
        return "soon"
    return "ok"


@dataclass(frozen=True)
class CaseRow:
    """One line of a case list."""

    id: int
    state: str
    stage: str
    tone: str
    in_amendment: bool
    measure_title: str
    responsible: str
    due_on: dt.date | None
    urgency: str
    enterprise_name: str
    district_label: str
    version: int
    timer_on: dt.date | None = None
    """A timed stage's day (a notice's end), when its event is due: shown where the stage has no deadline."""
    timer_event: str = ""
    timer_last: dt.date | None = None
    """The last day of a timed stage's period (a notice's last day), the day before `timer_on`."""
    held_since: dt.date | None = None
    """The day an undecided objection came in: the timed event waits for its decision, so the
    case shows it is held instead of the timer's day."""
    reply_by: dt.date | None = None
    """The last day to answer an amendment request, when the stage sets a reply period
    (`reply_within`): shown in the place of the paused stage deadline's date."""
    reply_overdue: bool = False

    @property
    def row_tone(self) -> str:
        """How a list row is marked: a late reply to an amendment request as an overdue row (the
        case now waits on the office), else by the stage deadline's `urgency`."""
        return "overdue" if self.reply_overdue else self.urgency


def stage_tone(state: StateSpec) -> str:
    """How a stage badge reads at a glance: granted, ended against the applicant, waiting on it."""
    if state.decides == "approved" or state.issues_letter == "disbursement":
        return "good"
    if state.final:
        return "bad"
    return "warn" if state.kind == "amendment" else "plain"


def case_row(
    portal: Portal,
    application: Application,
    t: Translator,
    enterprise: Enterprise | None = None,
    *,
    held_since: dt.date | None = None,
) -> CaseRow:
    """One case as the queues and case pages list it, in the reader's language, as of today.

    `held_since` (from `notices.held_by_objection(s)`) is the day an undecided objection came in:
    a timed stage's event waits for its decision, so the row says the case is held instead.
    """
    workflow = portal.workflows[application.workflow]
    pack, city = portal.pack, portal.city
    state = workflow.state(application.state)
    timer_on, timer_last, timer_event = None, None, ""
    if state.timer is not None and application.stage_entered_at is not None:
        entered_on = portal.clock.local_date(application.stage_entered_at)
        timer_on, timer_last = timer_due_on(state, entered_on), timer_last_day(state, entered_on)
        edge = next((e for e in workflow.transitions_from(state.name) if e.event == state.timer.event), None)
        timer_event = label(edge.label, t.lang) if edge is not None else ""
    if timer_on is None:
        held_since = None  # only a timed stage waits for an objection's decision
    reply_by = None
    if state.reply_within is not None and application.stage_entered_at is not None:
        reply_by = reply_due_on(state, portal.clock.local_date(application.stage_entered_at), portal.calendar)
    return CaseRow(
        id=application.id or 0,
        state=application.state,
        stage=label(workflow.state(application.state).label, t.lang),
        tone=stage_tone(workflow.state(application.state)),
        in_amendment=workflow.state(application.state).kind == "amendment",
        measure_title=measure_title(pack, application.measure_id, t.lang),
        responsible=responsible_label(workflow, application, pack, city, t),
        due_on=application.due_on,
        urgency=urgency(application, portal.calendar, portal.today()),
        enterprise_name=enterprise.name if enterprise is not None else "",
        district_label=district_label(city, application.district, t.lang),
        version=application.version,
        timer_on=None if held_since is not None else timer_on,
        timer_event=timer_event,
        timer_last=None if held_since is not None else timer_last,
        held_since=held_since,
        reply_by=reply_by,
        reply_overdue=reply_by is not None and portal.today() > reply_by,
    )


def history_rows(
    transitions: Sequence[Transition],
    workflow: Workflow,
    lang: str,
    clock: Clock,
    reopened: Sequence[list[str] | None] = (),
    form: FormSpec | None = None,
    withdrawals: Sequence[tuple[int, Withdrawn]] = (),
) -> list[dict[str, Any]]:
    """Transitions with stage and event names in `lang`, oldest first, in local time.

    `reopened` (from `amendments.reopened_per_return`) gives each return for amendment the titles
    of the sections it reopened, so the history says what the enterprise was asked to change.
    `withdrawals` (from `grants.withdrawals_in`, for staff) places each withdrawn granted amount
    after the transitions that preceded it, in words.
    """
    titles = {section.id: section.title.get(lang) for section in form.sections} if form is not None else {}
    returns = iter(reopened)
    # An event may be labelled per stage it leaves (a discarded draft, a withdrawn application).
    events = {edge.event: edge.label for edge in workflow.transitions}
    edges = {(edge.event, edge.source): edge.label for edge in workflow.transitions}
    # The enterprise is shown the reasons of staff decisions against it (returns, refusals).
    against = {
        edge.event
        for edge in workflow.transitions
        if edge.style in ("danger", "warning") and "enterprise" not in edge.roles
    }
    rows = []
    placed = iter(withdrawals)
    pending = next(placed, None)
    for index, item in enumerate(transitions):
        while pending is not None and pending[0] <= index:
            rows.append(_withdrawal_row(pending[1], lang, clock))
            pending = next(placed, None)
        rows.append(
            {
                "at": clock.in_words(item.at, lang),
                "event": item.event,
                "event_label": label(edges.get((item.event, item.from_state), events[item.event]), lang)
                if item.event in events
                else item.event,
                "from_label": label(workflow.state(item.from_state).label, lang),
                "to_label": label(workflow.state(item.to_state).label, lang),
                "comment": item.comment,
                "note": None,
                "against": item.event in against,
                "reopened": _reopened_titles(next(returns, None), titles)
                if item.event == RETURN_EVENT
                else [],
            }
        )
    while pending is not None:
        rows.append(_withdrawal_row(pending[1], lang, clock))
        pending = next(placed, None)
    return rows


def _withdrawal_row(withdrawn: Withdrawn, lang: str, clock: Clock) -> dict[str, Any]:
    """A withdrawn granted amount as a line of the history: what, why, and what is granted now."""
    t = Translator("en" if lang == "en" else "zh")
    text = t(
        f"history.grant_withdrawn.{withdrawn.cause}",
        amount=t.money(withdrawn.amount),
        requested=t.money(withdrawn.requested),
        ceiling=t.money(withdrawn.ceiling),
        default=t.money(withdrawn.default),
    )
    if withdrawn.via == "reconcile":
        text += t("history.grant_withdrawn.reconcile")
    return {
        "at": clock.wall_time(withdrawn.at),
        "event": "grant-withdrawn",
        "event_label": t("history.grant_withdrawn"),
        "note": text,
        "comment": None,
        "against": False,
        "reopened": [],
    }


def _reopened_titles(sections: list[str] | None, titles: Mapping[str, str]) -> list[str]:
    return [titles[s] for s in sections or () if s in titles]


def reasons(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in history if row["against"] and row["comment"]]


def current_and_earlier_reasons(
    history: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The reason for where the case is now (its last move was against the applicant), and the rest.

    After a resubmission the return that caused it is history, not a request still open.
    """
    given = reasons(history)
    if history and history[-1]["against"] and history[-1]["comment"]:
        return given[-1:], given[:-1]
    return [], given


def shown_value(value: object, field: FieldSpec | None, lang: str) -> str:
    """An answer as a reviewer reads it: ✓/✗ for yes/no, else as the applicant reads it back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if field is not None:  # choices by label, money in yuan with grouping, dates in words
        return answer_text(field, value, Translator("en" if lang == "en" else "zh"))
    return str(value)


def answer_rows(
    spec: FormSpec | None, versions: Sequence[ApplicationAnswers], lang: str
) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """The latest submitted answers by field, with the previous submitted version's where it differs."""
    submitted = [v for v in versions if v.submitted] or list(versions)
    if not submitted:
        return [], None
    latest = submitted[-1]
    previous = submitted[-2] if len(submitted) > 1 else None
    names = list(spec.fields) if spec is not None else sorted(latest.answers)
    rows = []
    for name in names:
        now = latest.answers.get(name)
        before = previous.answers.get(name) if previous is not None else None
        field = spec.fields.get(name) if spec is not None else None
        rows.append(
            {
                "label": field.label.get(lang) if field is not None else name,
                "value": shown_value(now, field, lang),
                "previous": shown_value(before, field, lang),
                "changed": previous is not None
                and shown_value(now, None, lang) != shown_value(before, None, lang),
            }
        )
    diff = {"old": previous.version, "new": latest.version} if previous is not None else None
    return rows, diff


def file_change_rows(
    changes: Sequence[SlotChange], spec: FormSpec | None, t: Translator
) -> list[dict[str, str]]:
    """Each changed upload slot in the form's order, by its label, with the files added and removed
    named in a list: what the resubmission did to the files, in words."""
    order = {slot: place for place, slot in enumerate(spec.attachments if spec is not None else ())}
    labels = {s.id: s.label.get(t.lang) for s in (spec.attachments.values() if spec is not None else ())}
    sep = t("punct.list_sep")
    return [
        {
            "slot": labels.get(change.slot) or t("review.other_slot"),
            "added": sep.join(item.original_name for item in change.added),
            "removed": sep.join(item.original_name for item in change.removed),
        }
        for change in sorted(changes, key=lambda change: (order.get(change.slot, len(order)), change.slot))
    ]


def drawn_trace(pack: Pack, measure_id: str, trace: Mapping[str, Any] | None) -> list[TraceRow]:
    """A stored or fresh trace in its rule version's groups (flat when the pack lost that version)."""
    version = (trace or {}).get("version")
    tree = next((rule.criteria for rule in pack.versions(measure_id) if rule.version == version), None)
    return trace_rows(tree, list((trace or {}).get("criteria", [])))


def trace_lines(rows: Sequence[TraceRow], lang: str) -> list[dict[str, Any]]:
    """What a page prints of each row: its number (1, 2, 2.1), words (a group's come from its
    kind), depth, result and the policy clause it cites."""
    return [
        {
            "kind": row.kind,
            "depth": row.depth,
            "number": number,
            "message": label(row.entry.get("message") or {}, lang) if row.kind == "criterion" else "",
            "outcome": row.reads,
            # A trace stored before `source_en` existed cites in Chinese only.
            "source": label({"zh": row.entry.get("source"), "en": row.entry.get("source_en")}, lang),
        }
        for row, number in zip(rows, numbers(row.depth for row in rows), strict=True)
    ]


def trace_comparison(
    pack: Pack, measure_id: str, stored: Mapping[str, Any] | None, now: Mapping[str, Any], lang: str
) -> dict[str, Any]:
    """The criteria as judged at submission next to a fresh evaluation, differences flagged.

    Rows are matched by position in the drawn trace; a changed rule version can regroup or
    reorder them, which then shows as differences, and that is the point of the check.
    """
    before_rows = trace_lines(drawn_trace(pack, measure_id, stored), lang)
    after_rows = trace_lines(drawn_trace(pack, measure_id, now), lang)
    rows = []
    for index in range(max(len(before_rows), len(after_rows))):
        before = before_rows[index] if index < len(before_rows) else {}
        after = after_rows[index] if index < len(after_rows) else {}
        shown = after or before
        rows.append(
            {
                "kind": shown["kind"],
                "depth": shown["depth"],
                "message": after.get("message") or before.get("message") or "",
                "stored": before.get("outcome"),
                "now": after.get("outcome"),
                "differs": before.get("outcome") != after.get("outcome"),
            }
        )
    stored_outcome = (stored or {}).get("outcome")
    return {
        "stored_outcome": stored_outcome,
        "now_outcome": now.get("outcome"),
        "changed": stored_outcome != now.get("outcome") or any(r["differs"] for r in rows),
        "rows": rows,
    }
