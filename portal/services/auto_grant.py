"""免申即享: a screening hit on an `auto_grant` measure opens a case that waits for the enterprise.

Which state waits and which events open and confirm it are the workflow's (the state whose kind
is `confirmation`, the system event that leads into it from the initial state, the enterprise's
event that leads out of it); nothing here names a state, event or measure. Confirming is one
step: the enterprise gives the account the benefit is paid into, the rule is judged on its
confirmed profile as for a submission, and the case goes on through its workflow.
"""

from dataclasses import dataclass
from typing import Any, cast

from sqlmodel import Session, col, select

from portal.db.audit import append_audit
from portal.db.tables import Application, ApplicationAnswers, Enterprise
from portal.rules import Rule
from portal.rules.text import Text
from portal.services.access import load_visible
from portal.services.cases import Moved, advance, case_context, case_track, workflow_of
from portal.services.context import Portal
from portal.services.enterprises import confirmed_profile, profile_facts, profile_missing
from portal.services.errors import NotFound, Refused
from portal.services.payee import checked_account
from portal.workflows import Actor, Workflow
from portal.workflows.context import SYSTEM_ACTOR

CONFIRMATION_KIND = "confirmation"
# A mainland bank account number: digits, 8 to 30 of them (spaces and hyphens as typed are dropped).


@dataclass(frozen=True)
class Route:
    """The confirmation state of a workflow and the events into and out of it."""

    state: str
    offer_event: str
    confirm_event: str


def route_of(workflow: Workflow) -> Route | None:
    """The workflow's 免申即享 route, or None when it declares no confirmation state."""
    waiting = next((s.name for s in workflow.states if s.kind == CONFIRMATION_KIND), None)
    if waiting is None:
        return None
    offer = next(
        (
            t.event
            for t in workflow.transitions
            if t.source == workflow.initial and t.target == waiting and "system" in t.roles
        ),
        None,
    )
    confirm = next(
        (
            t.event
            for t in workflow.transitions
            if t.source == waiting and "enterprise" in t.roles and workflow.state(t.target).kind != "terminal"
        ),
        None,
    )
    if offer is None or confirm is None:
        return None
    return Route(waiting, offer, confirm)


def offer_case(session: Session, portal: Portal, rule: Rule, enterprise_id: int) -> Application | None:
    """Open a case waiting for confirmation, inside the caller's transaction; None if the measure's
    workflow has no confirmation route or no form to prefill (then a notice is all there is)."""
    workflow = portal.workflows.get(rule.workflow) if rule.workflow else None
    form = portal.forms.get(rule.id)
    route = route_of(workflow) if workflow is not None else None
    enterprise = session.get(Enterprise, enterprise_id)
    if workflow is None or route is None or form is None or enterprise is None or rule.lead_unit is None:
        return None
    application = Application(
        enterprise_id=enterprise_id,
        measure_id=rule.id,
        rule_version=rule.version,
        workflow=workflow.name,
        state=workflow.initial,
        lead_unit=rule.lead_unit,
        district=enterprise.district,
        stage_entered_at=portal.now(),
        created_at=portal.now(),
        updated_at=portal.now(),
    )
    session.add(application)
    session.flush()
    append_audit(
        session,
        actor_id=None,
        actor_role="system",
        subject_type="application",
        subject_id=cast(int, application.id),
        event="create_draft",
        to_state=application.state,
        payload={"measure_id": rule.id, "rule_version": rule.version, "auto_grant": True},
    )
    profile = confirmed_profile(session, enterprise_id)
    answers = form.prefill(profile_facts(portal.city, profile, enterprise))
    session.add(
        ApplicationAnswers(
            application_id=cast(int, application.id),
            version=1,
            answers=answers,
            created_by=None,
            created_at=portal.now(),
        )
    )
    session.flush()
    advance(
        session,
        portal,
        application,
        SYSTEM_ACTOR,
        route.offer_event,
        comment=None,
        expected_version=application.version,
        extra_values={"answers_version": 1, "track": case_track(session, portal, form, application, answers)},
        audit_payload={"auto_grant": True},
    )
    return application


def confirm(
    portal: Portal,
    actor: Actor,
    application_id: int,
    *,
    bank_name: str,
    account_number: str,
    expected_version: int,
    lang: str = "zh",
) -> Moved:
    """The enterprise confirms a 免申即享 case with the account to pay into; the case goes on."""
    payee = checked_account(bank_name, account_number, lang)
    payment = {"bank_name": payee.bank_name, "account_number": payee.account_number}
    with portal.transaction() as session:
        application = load_visible(session, actor, application_id)
        if actor.role != "enterprise" or application.enterprise_id != actor.enterprise_id:
            raise NotFound("application", application_id)
        workflow, state = workflow_of(portal, application)
        route = route_of(workflow)
        if route is None or state.name != route.state:
            raise Refused(
                "not_to_confirm",
                f"“{state.label.zh}”阶段的案件无需确认",
                f"a case at the “{state.label.en}” stage is not waiting for confirmation",
            )
        enterprise = session.get(Enterprise, application.enterprise_id)
        profile = confirmed_profile(session, application.enterprise_id)
        if profile is None or enterprise is None:
            raise profile_missing()
        rule = portal.pack.select(application.measure_id, portal.today())
        if rule is None:
            raise Refused(
                "not_in_force",
                "该政策当前不在有效期内",
                f"the measure is not in force on {portal.today().isoformat()}",
            )
        previous = session.exec(
            select(ApplicationAnswers)
            .where(col(ApplicationAnswers.application_id) == application_id)
            .order_by(col(ApplicationAnswers.version).desc())
        ).first()
        answers: dict[str, Any] = dict(previous.answers) if previous is not None else {}
        answers["payment_account"] = {**payment, "account_name": enterprise.name}
        version = (previous.version + 1) if previous is not None else 1
        session.add(
            ApplicationAnswers(
                application_id=application_id,
                version=version,
                answers=answers,
                submitted=True,
                created_by=actor.user_id,
                created_at=portal.now(),
            )
        )
        facts = portal.pack.facts.parse(profile_facts(portal.city, profile, enterprise))
        result = rule.evaluate(facts, portal.today(), True)
        trace = {**result.to_json("zh"), "evaluated_on": portal.today().isoformat()}
        context = case_context(session, portal, application, actor, eligibility_outcome=result.outcome.value)
        return advance(
            session,
            portal,
            application,
            actor,
            route.confirm_event,
            comment=None,
            expected_version=expected_version,
            context=context,
            extra_values={
                "profile_version": profile.version,
                "answers_version": version,
                "rule_version": rule.version,
                "rule_hash": result.rule_hash,
                "eligibility_outcome": result.outcome.value,
                "eligibility_trace": trace,
                "submitted_at": portal.now(),
            },
            audit_payload={
                "profile_version": profile.version,
                "answers_version": version,
                "outcome": result.outcome.value,
                "rule_hash": result.rule_hash,
                "payment_account": payment["account_number"][-4:],
            },
        )


def is_awaiting(portal: Portal, application: Application) -> bool:
    """True when the case waits for the enterprise to confirm a 免申即享 grant."""
    workflow = portal.workflows.get(application.workflow)
    return workflow is not None and workflow.state(application.state).kind == CONFIRMATION_KIND


def offered_benefits(portal: Portal, actor: Actor, application_id: int) -> list[tuple[Text | None, Any]]:
    """(label, value) of each benefit the measure grants on the confirmed profile; an unlabelled
    benefit has no label (the page says "amount"), never its internal name."""
    with portal.reading() as session:
        application = load_visible(session, actor, application_id)
        enterprise = session.get(Enterprise, application.enterprise_id)
        profile = confirmed_profile(session, application.enterprise_id)
    rule = portal.pack.select(application.measure_id, portal.today())
    if rule is None or enterprise is None:
        return []
    facts = portal.pack.facts.parse(profile_facts(portal.city, profile, enterprise))
    result = rule.evaluate(facts, portal.today())
    return [
        (spec.label if (spec := rule.benefit.get(name)) is not None else None, value)
        for name, value in result.benefit.items()
    ]
