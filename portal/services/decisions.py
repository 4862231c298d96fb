"""Decisions and their letters: recorded by the deciding transition, letters never rewritten.

A decision is stored by the transition that enters a state which `decides` (the workflow
file says which, and which letter each state `issues_letter`), in the same transaction,
with the rule outcome, benefit, trace and rule hash the case was judged on.
Its letter is rendered there too and stored with its sha256: the bytes a bank verifies are
the bytes that were committed. A correction (`portal.services.corrections`) is a new letter
that supersedes the old one.
"""

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, cast

from sqlmodel import Session, col, select

from portal import documents  # documents.render_letter loads WeasyPrint on first use, not here
from portal.db.tables import (
    Application,
    Decision,
    Enterprise,
    Letter,
    Transition,
)
from portal.documents import (
    BenefitLine,
    LetterData,
    PaymentNotice,
    TraceLine,
    new_verification_code,
)
from portal.documents.formatting import format_amount
from portal.documents.model import BenefitKind, CriterionOutcome, Language, LetterKind
from portal.documents.verification import normalize_verification_code
from portal.rules import Rule
from portal.rules.trace_rows import trace_rows
from portal.services.access import Case, CaseRow, load_visible
from portal.services.context import Portal
from portal.services.decision_records import recorded_decision
from portal.services.doc_numbers import next_doc_number
from portal.services.errors import BadStoredState, Conflict, NotFound, Refused
from portal.services.listing_register import enter_register, submitted_answers
from portal.services.payee_accounts import PayeeAccount, paid_into
from portal.workflows import Actor, StateSpec

_BENEFIT_KINDS: dict[str, BenefitKind] = {"money": "money", "ratio": "ratio"}
# The stage kind of the public notice, which shows the amount granted to everyone.
NOTICE_KIND = "notice"
# Stages in which the lead unit may still set the amount granted: before the public notice shows it.
GRANT_OPEN_KINDS = frozenset({"review", "expert"})


@dataclass(frozen=True)
class LetterInfo:
    """What the public /verify page shows about a letter, and nothing more."""

    verification_code: str
    doc_number: str
    kind: str
    issuing_unit_zh: str
    issuing_unit_en: str
    enterprise_name: str
    measure_id: str
    measure_title_zh: str
    measure_title_en: str
    # The outcome and amount as the audit chain recorded them (row `record_seq`, hash
    # `record_hash`), never the mutable decision row; all None when the chain has no record.
    outcome: str | None
    granted_amount: Decimal | None
    record_seq: int | None
    record_hash: str | None
    # The rule version that decided the case, as the letter's appendix prints its check code.
    rule_hash: str
    rule_in_force_from: date
    issued_on: date
    sha256: str
    superseded: bool
    # The verification code of the letter that corrects this one, so /verify can link to it.
    superseded_by: str | None = None


def rule_of(portal: Portal, application: Case) -> Rule:
    """The rule version an application was judged on."""
    for rule in portal.pack.versions(application.measure_id):
        if rule.version == application.rule_version:
            return rule
    raise BadStoredState(
        "application",
        application.id,
        f"measure {application.measure_id} has no rule version {application.rule_version!r} in the pack",
    )


def grants_money(portal: Portal, application: Case) -> bool:
    """Whether the benefit the case was judged on includes money: only such a case is disbursed."""
    if isinstance(application, CaseRow):
        benefit = application.benefit or {}
    else:
        benefit = (application.eligibility_trace or {}).get("benefit") or {}
    if not benefit or application.rule_version is None:
        return False
    rule = rule_of(portal, application)
    for name, amount in benefit.items():
        spec = rule.benefit.get(name)
        if spec is not None and spec.type == "money" and Decimal(str(amount)) > 0:
            return True
    return False


def money_ceiling(rule: Rule, benefit: dict[str, Any] | None) -> Decimal | None:
    """The money the rule computed for a case (its amount, or its cap): the most the rule allows.

    None when the measure grants no money (a status, a ratio, school places).
    """
    amounts = [
        Decimal(str(amount))
        for name, amount in (benefit or {}).items()
        if (spec := rule.benefit.get(name)) is not None and spec.type == "money"
    ]
    return sum(amounts, Decimal(0)) if amounts else None


def requested_amount(portal: Portal, session: Session, application: Application) -> Decimal | None:
    """What the applicant asked for in the latest submission, where the form names the field
    (`requested_amount_field`); None otherwise."""
    spec = portal.forms.get(application.measure_id)
    if spec is None or spec.requested_amount_field is None or application.id is None:
        return None
    return spec.requested_amount(submitted_answers(session, application.id))


def default_grant(ceiling: Decimal | None, requested: Decimal | None) -> Decimal | None:
    """What is granted when the lead unit sets nothing: the rule's amount, but never more than
    was asked for. None when the measure grants no money."""
    if ceiling is None:
        return None
    return min(ceiling, requested) if requested is not None else ceiling


# Why a set amount no longer stands: it is above the amount requested, above the rule's amount,
# or the rule grants the case no money at all (e.g. a fact it needs is no longer established).
ExcessCause = Literal["requested", "ceiling", "no_money"]


@dataclass(frozen=True)
class GrantExcess:
    """An amount set on a case above the most that may now be granted (the lower of the rule's
    amount and the amount requested), as a change of the answers can leave it.

    `most` and `ceiling` are None when the rule grants the case no money any more.
    """

    amount: Decimal
    most: Decimal | None
    ceiling: Decimal | None
    requested: Decimal | None

    @property
    def by_request(self) -> bool:
        """Whether the amount requested, not the rule's amount, is what the set amount exceeds."""
        return self.requested is not None and self.requested < self.amount

    @property
    def cause(self) -> ExcessCause:
        if self.ceiling is None:
            return "no_money"
        return "requested" if self.by_request else "ceiling"


def grant_excess(portal: Portal, session: Session, application: Application) -> GrantExcess | None:
    """The amount set on the case and the most now allowed, when the set amount is above it.

    Read from the stored trace and the latest submitted answers, as the decision reads them.
    An amount set while the rule granted money stands no longer when the stored result grants
    none (the decision would ignore it, but the queue and the notice read the case row).
    None when nothing is set or the set amount is within the limit.
    """
    if application.granted_amount is None or application.rule_version is None:
        return None
    amount = Decimal(application.granted_amount)
    benefit = (application.eligibility_trace or {}).get("benefit")
    ceiling = money_ceiling(rule_of(portal, application), benefit)
    if ceiling is None:
        return GrantExcess(amount, None, None, None)
    requested = requested_amount(portal, session, application)
    most = cast(Decimal, default_grant(ceiling, requested))
    return GrantExcess(amount, most, ceiling, requested) if amount > most else None


def effective_grant(portal: Portal, session: Session, application: Application) -> Decimal | None:
    """What a decision taken now grants: the amount set, else the default; None when the stored
    result grants no money (whatever the case row still holds)."""
    benefit = (application.eligibility_trace or {}).get("benefit")
    ceiling = money_ceiling(rule_of(portal, application), benefit)
    if ceiling is None:
        return None
    if application.granted_amount is not None:
        return Decimal(application.granted_amount)
    return default_grant(ceiling, requested_amount(portal, session, application))


def refuse_grant_above_limit(
    portal: Portal, session: Session, application: Application, source: StateSpec, entered: StateSpec
) -> None:
    """Refuse to publish or approve a case whose set amount is above what may be granted.

    A resubmission withdraws such an amount (`grants.withdraw_above_limit`); this is the second
    line, so no notice, decision, letter or payment can carry one that slipped through. Where
    the reviewers cannot set the amount again (from the notice on, or when the rule grants no
    money), the message says to have an administrator withdraw it (`portal grants reconcile`).
    """
    excess = grant_excess(portal, session, application)
    if excess is None:
        return
    amount = {lang: format_amount(excess.amount, "money", lang) for lang in ("zh", "en")}
    if entered.kind == NOTICE_KIND:
        what = {"zh": "进入公示", "en": "go on public notice"}
    else:
        what = {"zh": "作出批准决定", "en": "be approved"}
    if excess.most is None:
        head = {
            "zh": f"按政策规则，本案目前不涉及资金兑现，此前核定的兑现金额 {amount['zh']} "
            f"已无依据，不能{what['zh']}。",
            "en": f"The rule grants this case no money now, so the amount granted earlier, {amount['en']}, "
            f"no longer stands and the case cannot {what['en']}.",
        }
    else:
        most = {lang: format_amount(excess.most, "money", lang) for lang in ("zh", "en")}
        if excess.by_request:
            limit = {"zh": f"企业的申请金额 {most['zh']}", "en": f"the amount requested, {most['en']},"}
        else:
            limit = {"zh": f"按政策规则计算的金额 {most['zh']}", "en": f"the rule's amount, {most['en']},"}
        head = {
            "zh": f"核定兑现金额 {amount['zh']} 高于{limit['zh']}，不能{what['zh']}。",
            "en": f"The amount granted, {amount['en']}, is above {limit['en']} "
            f"so the case cannot {what['en']}.",
        }
    if source.kind in GRANT_OPEN_KINDS and excess.most is not None:
        then = {"zh": "请先重新核定兑现金额。", "en": "Set the amount granted again first."}
    else:
        then = {
            "zh": "审核人员在此阶段不能更改核定金额：请管理员核对并撤销超出的核定金额，"
            "撤销后本案按可兑现的金额继续办理。",
            "en": "Reviewers cannot change the amount at this stage: ask an administrator to check the "
            "case and withdraw the amount above the limit; the case then proceeds with the amount "
            "that may be granted.",
        }
    raise Refused("grant_above_limit", f"{head['zh']}{then['zh']}", f"{head['en']} {then['en']}")


def _benefit_lines(rule: Rule, benefit: dict[str, Any] | None) -> list[BenefitLine]:
    """The non-money benefits a letter prints beside the granted amount (ratios, counts).

    Money is printed once, as the granted amount; a benefit the pack gives no label is left
    out rather than printed under its internal name.
    """
    lines = []
    for name, amount in (benefit or {}).items():
        spec = rule.benefit.get(name)
        label = spec.label if spec is not None and spec.type != "money" else None
        if spec is None or label is None or not (label.zh and label.en):
            continue
        lines.append(
            BenefitLine(
                name=name,
                label_zh=label.zh,
                label_en=label.en,
                amount=Decimal(str(amount)),
                kind=_BENEFIT_KINDS.get(spec.type, "number"),
            )
        )
    return lines


def _trace_lines(rule: Rule, trace: dict[str, Any] | None) -> list[TraceLine]:
    """The stored trace in the groups of the rule version it was judged on, as the pages draw it."""
    lines = []
    for row in trace_rows(rule.criteria, list((trace or {}).get("criteria", []))):
        text = row.entry.get("message") or {}
        zh, en = (str(text.get("zh") or "—"), str(text.get("en") or "—")) if row.entry else ("", "")
        lines.append(
            TraceLine(
                criterion_id=str(row.entry.get("id") or ""),
                message_zh=zh,
                message_en=en,
                outcome=cast(CriterionOutcome, row.outcome),
                source=str(row.entry.get("source") or ""),
                kind=row.kind,
                depth=row.depth,
                covered=row.covered,
            )
        )
    return lines


def _printed_reasons(reasons: str | list[str] | None, decision: Decision, kind: LetterKind) -> list[str]:
    """The reasons, plus why less than the rule's amount is granted where the bureau said so.

    A disbursement notice prints only what was said with the disbursement (or a correction's
    reasons): the approval's reasons, and the amount's, were the approval letter's to give.
    """
    if kind == "disbursement":
        given = reasons or []
        return [given] if isinstance(given, str) else list(given)
    if reasons is None:
        reasons = decision.reasons or ""
    lines = [reasons] if isinstance(reasons, str) else list(reasons)
    if kind == "approval" and decision.granted_reason:
        lines.append(decision.granted_reason)
    return lines


def disbursing_states(portal: Portal, application: Application) -> list[str]:
    """The states of the case's workflow whose entry issues the disbursement letter."""
    workflow = portal.workflows.get(application.workflow)
    states = workflow.states if workflow is not None else []
    return [state.name for state in states if state.issues_letter == "disbursement"]


def payment_notice(session: Session, portal: Portal, application: Application) -> PaymentNotice | None:
    """When and where a disbursed case's money went, from the stored rows only (so a re-render
    prints the same): the day of the transition that recorded it paid (the bank's return file
    fires it, or a reviewer by hand), and the account that transition stored as paid into.
    A disbursement recorded before transitions kept it reads the account of the payment line
    that paid it, else the account the case is paid into now (its confirmed answers, else the
    enterprise's profile).

    None when no disbursing transition is stored (a letter rendered outside the workflow).
    """
    paid = session.exec(
        select(Transition)
        .where(
            col(Transition.application_id) == application.id,
            col(Transition.to_state).in_(disbursing_states(portal, application)),
        )
        .order_by(col(Transition.id).desc())
    ).first()
    if paid is None:
        return None
    paid_on = portal.clock.local_date(paid.at)
    if paid.paid_bank_name and paid.paid_account_number:
        account: PayeeAccount | None = PayeeAccount(paid.paid_bank_name, paid.paid_account_number)
    else:
        account = paid_into(session, application)
    if account is None:
        return PaymentNotice(paid_on=paid_on)
    return PaymentNotice(paid_on=paid_on, bank_name=account.bank_name, account_masked=account.masked)


def letter_data(
    session: Session,
    portal: Portal,
    *,
    application: Application,
    decision: Decision,
    kind: LetterKind,
    lang: Language,
    reasons: str | list[str] | None,
    doc_number: str,
    verification_code: str,
    issued_on: date,
    supersedes: Letter | None,
    correction_reason: str | None = None,
    subject: str | None = None,
) -> LetterData:
    """What a letter prints, from the stored decision and the letter's own identity.

    Shared by issuing and by re-rendering a stored letter (`portal decisions render`), so the
    two cannot drift apart: the same stored rows give the same bytes. A correction names the
    letter it `supersedes` by its code, number and day, and says why (`correction_reason`).
    """
    rule = rule_of(portal, application)
    enterprise = session.get(Enterprise, application.enterprise_id)
    if enterprise is None:
        raise BadStoredState("application", application.id, "its enterprise row is missing")
    unit = portal.pack.units.get(application.lead_unit, {})
    return LetterData(
        kind=kind,
        lang=lang,
        doc_number=doc_number,
        issuing_unit_zh=unit.get("zh") or application.lead_unit,
        issuing_unit_en=unit.get("en") or application.lead_unit,
        issued_on=issued_on,
        enterprise_name=enterprise.name,
        enterprise_uscc=enterprise.uscc,
        measure_id=application.measure_id,
        measure_title_zh=rule.title.zh,
        measure_title_en=rule.title.en,
        measure_source=rule.source.citation() or application.measure_id,
        outcome=str(
            (decision.trace or {}).get("outcome") or application.eligibility_outcome or "undetermined"
        ),
        reasons=_printed_reasons(reasons, decision, kind),
        rule_hash=decision.rule_hash or rule.rule_hash,
        verification_code=verification_code,
        verify_url=f"{portal.public_base_url}/verify/{verification_code}",
        benefits=_benefit_lines(rule, decision.benefit) if kind != "rejection" else [],
        trace=_trace_lines(rule, decision.trace),
        supersedes_code=supersedes.verification_code if supersedes else None,
        supersedes_doc_number=supersedes.doc_number if supersedes else None,
        supersedes_issued_on=portal.clock.local_date(supersedes.issued_at) if supersedes else None,
        correction_reason=correction_reason,
        zone=portal.clock.zone,
        subject=subject,
        granted_amount=decision.granted_amount if kind != "rejection" else None,
        remedy=portal.remedies.for_unit(application.lead_unit, lang),
        payment=payment_notice(session, portal, application) if kind == "disbursement" else None,
    )


def issue_letter(
    session: Session,
    portal: Portal,
    *,
    application: Application,
    decision: Decision,
    kind: LetterKind,
    issued_by: int | None,
    lang: Language = "zh",
    reasons: str | list[str] | None = None,
    supersedes: Letter | None = None,
    correction_reason: str | None = None,
    subject: str | None = None,
) -> Letter:
    """Render and store one letter inside the caller's transaction; returns the stored row."""
    if decision.id is None:
        raise BadStoredState("application", application.id, "its decision row is not stored")
    # The printed date is derived from the stored instant, so a re-render prints the same day.
    issued_at = portal.now()
    issued_on = portal.clock.local_date(issued_at)
    try:
        abbr = portal.pack.unit_abbr(application.lead_unit)
    except KeyError as exc:
        raise BadStoredState("application", application.id, str(exc.args[0])) from None
    code = new_verification_code()
    data = letter_data(
        session,
        portal,
        application=application,
        decision=decision,
        kind=kind,
        lang=lang,
        reasons=reasons,
        doc_number=next_doc_number(session, application.lead_unit, issued_on.year, abbr=abbr),
        verification_code=code,
        issued_on=issued_on,
        supersedes=supersedes,
        correction_reason=correction_reason,
        subject=subject,
    )
    pdf = documents.render_letter(data)
    letter = Letter(
        decision_id=decision.id,
        kind=kind,
        lang=lang,
        doc_number=data.doc_number,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        verification_code=code,
        issued_at=issued_at,
        issued_by=issued_by,
        supersedes_id=supersedes.id if supersedes is not None else None,
    )
    session.add(letter)
    session.flush()
    return letter


def record_decision(
    session: Session,
    portal: Portal,
    *,
    application: Application,
    state: StateSpec,
    actor: Actor,
    comment: str | None,
) -> Letter:
    """Store the decision `state` records (if any) and issue the letter it declares."""
    if state.issues_letter is None:
        raise ValueError(f"state {state.name!r} issues no letter")
    outcome, kind = state.decides, state.issues_letter
    actor_id = actor.user_id if actor.role != "system" else None
    decision = session.exec(select(Decision).where(Decision.application_id == application.id)).first()
    if outcome is not None:
        if decision is not None:
            raise Conflict(f"application {application.id} is already decided ({decision.outcome})")
        # (The timed close of a notice; an objection may have come in and been dismissed.)
        reasons = comment or ("公示期满，予以批准。" if outcome == "approved" else None)
        benefit = (application.eligibility_trace or {}).get("benefit") if outcome == "approved" else None
        granted = effective_grant(portal, session, application) if outcome == "approved" else None
        decision = Decision(
            application_id=cast(int, application.id),
            outcome=outcome,
            benefit=benefit,
            granted_amount=granted,
            granted_reason=application.granted_reason if granted is not None else None,
            reasons=reasons,
            decided_at=portal.now(),
            decided_by=actor_id,
            rule_hash=application.rule_hash,
            trace=application.eligibility_trace,
        )
        session.add(decision)
        session.flush()
    elif decision is None:
        raise BadStoredState("application", application.id, "disbursed without a stored decision")
    letter = issue_letter(
        session,
        portal,
        application=application,
        decision=decision,
        kind=kind,
        issued_by=actor_id,
        reasons=comment if outcome is None and comment else None,
    )
    if outcome == "approved":
        # A measure whose rule declares a `listing:` enters its public register with the approval.
        enter_register(
            session, portal, application=application, decision=decision, letter=letter, actor=actor
        )
    return letter


def letters_for(portal: Portal, actor: Actor, application_id: int) -> list[Letter]:
    """Every letter of a case the actor may see, oldest first (superseded ones included)."""
    with portal.reading() as session:
        load_visible(session, actor, application_id)
        query = (
            select(Letter)
            .join(Decision, col(Decision.id) == Letter.decision_id)
            .where(Decision.application_id == application_id)
            .order_by(col(Letter.id))
        )
        return list(session.exec(query).all())


def get_letter(portal: Portal, actor: Actor, letter_id: int) -> Letter:
    """One letter (with its PDF bytes) if the actor may see its case."""
    with portal.reading() as session:
        letter = session.get(Letter, letter_id)
        if letter is None:
            raise NotFound("letter", letter_id)
        decision = session.get(Decision, letter.decision_id)
        assert decision is not None
        load_visible(session, actor, decision.application_id)
        return letter


def verify_code(portal: Portal, code: str) -> LetterInfo:
    """The public facts of the letter with this verification code; NotFound for anything else."""
    try:
        canonical = normalize_verification_code(code)
    except ValueError:
        # Still query, for a value no letter has: a malformed code must cost what an unknown one does.
        canonical = ""
    with portal.reading() as session:
        letter = session.exec(select(Letter).where(Letter.verification_code == canonical)).first()
        if letter is None:
            raise NotFound("letter", "(code)")
        decision = session.get(Decision, letter.decision_id)
        application = session.get(Application, decision.application_id) if decision else None
        enterprise = session.get(Enterprise, application.enterprise_id) if application else None
        if decision is None or application is None or enterprise is None:
            raise BadStoredState("letter", letter.id, "its decision, application or enterprise is missing")
        newer = session.exec(
            select(Letter.verification_code).where(Letter.supersedes_id == letter.id)
        ).first()
        rule = rule_of(portal, application)
        unit = portal.pack.units.get(application.lead_unit, {})
        record = recorded_decision(session, decision)
        return LetterInfo(
            verification_code=letter.verification_code,
            doc_number=letter.doc_number,
            kind=letter.kind,
            issuing_unit_zh=unit.get("zh") or application.lead_unit,
            issuing_unit_en=unit.get("en") or application.lead_unit,
            enterprise_name=enterprise.name,
            measure_id=application.measure_id,
            measure_title_zh=rule.title.zh,
            measure_title_en=rule.title.en,
            outcome=record.outcome if record else None,
            granted_amount=record.granted_amount if record else None,
            record_seq=record.seq if record else None,
            record_hash=record.hash if record else None,
            rule_hash=decision.rule_hash or rule.rule_hash,
            rule_in_force_from=rule.effective_from,
            issued_on=portal.clock.local_date(letter.issued_at),
            sha256=letter.sha256,
            superseded=newer is not None,
            superseded_by=newer,
        )
