"""Applications from the enterprise's side and the reviewers' side: draft, attach, submit, transition.

Every function is one use case in one transaction. Writes to an application go through
`cases.bump` (version + 1, refused when stale) and leave an audit row in the same commit.
"""

import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlmodel import Session, col, func, select

from portal.db.audit import append_audit, payload_hash
from portal.db.tables import (
    Application,
    ApplicationAnswers,
    ApplicationAttachment,
    Attachment,
    Enterprise,
    EnterpriseProfile,
    SubmittedAttachment,
    Transition,
)
from portal.documents.formatting import format_amount
from portal.forms import FormSpec
from portal.forms.model import kind_of
from portal.messages import catalogue, normalise_lang
from portal.rules import FactError, Outcome, Result, Rule
from portal.services.access import Case, load_visible, load_visible_row
from portal.services.amendments import reopened_in
from portal.services.cases import Moved, advance, audit_case, bump, case_context, case_track, workflow_of
from portal.services.channels import can_apply_online
from portal.services.context import Portal
from portal.services.decisions import money_ceiling
from portal.services.enterprises import confirmed_profile, profile_facts, profile_missing
from portal.services.errors import FieldProblem, Forbidden, NotFound, Refused, StaleVersion, ValidationFailed
from portal.services.grants import withdraw_above_limit
from portal.services.payments import batched_event, refuse_if_batched
from portal.services.verified import require_verified
from portal.text_rules import without_bidi
from portal.workflows import Actor, EventSpec

SUBMIT, RESUBMIT = "submit", "resubmit"
# The enterprise's own way out, the one event the portal offers it outside the form.
WITHDRAW = "withdraw"
# Events with their own use case (they store more than a state change).
_OWN_USE_CASE = {
    SUBMIT: "submit",
    RESUBMIT: "submit",
    "declare_no_conflict": "experts.declare",
    "score": "experts.score",
}
_EDITABLE_KINDS = frozenset({"draft", "amendment"})


def _require_enterprise(actor: Actor) -> int:
    if actor.role != "enterprise" or actor.enterprise_id is None:
        raise Forbidden("仅申报企业可以执行此操作", "only the applying enterprise may do this")
    return actor.enterprise_id


def _owned(session: Session, actor: Actor, application_id: int) -> Application:
    """The actor's own application; a reviewer who can see it still may not edit it."""
    application = load_visible(session, actor, application_id)
    if application.enterprise_id != _require_enterprise(actor):
        raise NotFound("application", application_id)
    return application


def _editable(portal: Portal, application: Application) -> None:
    _, state = workflow_of(portal, application)
    if state.kind not in _EDITABLE_KINDS:
        raise Refused(
            "not_editable",
            f"“{state.label.zh}”阶段的申报不能修改",
            f"an application at the “{state.label.en}” stage cannot be changed",
        )


def _rule_in_force(portal: Portal, measure_id: str) -> Rule:
    if not portal.pack.versions(measure_id):
        raise NotFound("measure", measure_id)
    rule = portal.pack.select(measure_id, portal.today())
    if rule is None:
        title = portal.pack.versions(measure_id)[-1].title
        raise Refused(
            "not_in_force",
            f"“{title.zh}”当前不在有效期内",
            f"“{title.en}” is not in force on {portal.today().isoformat()}",
        )
    return rule


def _require_online_channel(portal: Portal, rule: Rule) -> None:
    """Only a measure applied for through a form, with its form and workflow in the pack, takes a draft:
    anything else would be a case nobody can fill in or finish."""
    if not can_apply_online(portal, rule):
        raise Refused(
            "not_applicable",
            f"「{rule.title.zh}」不通过本平台网上申报办理",
            f"{rule.title.en} is not applied for on this portal",
        )


def create_draft(portal: Portal, actor: Actor, measure_id: str) -> Application:
    """Start an application for a measure in force today; the enterprise's district is copied in."""
    enterprise_id = _require_enterprise(actor)
    rule = draftable_rule(portal, measure_id)
    with portal.transaction() as session:
        return draft_in(session, portal, actor, rule, enterprise_id)


def draftable_rule(portal: Portal, measure_id: str) -> Rule:
    """The measure's rule in force today, if the portal takes applications for it; else Refused."""
    rule = _rule_in_force(portal, measure_id)
    _require_online_channel(portal, rule)
    assert rule.lead_unit is not None and rule.workflow is not None  # can_apply_online checked them
    return rule


def draft_in(
    session: Session,
    portal: Portal,
    actor: Actor,
    rule: Rule,
    enterprise_id: int,
    payload: Mapping[str, object] | None = None,
) -> Application:
    """Create the draft inside the caller's transaction (a renewal creates one with its link)."""
    assert rule.workflow is not None  # draftable_rule checked it
    workflow = portal.workflows[rule.workflow]
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound("enterprise", enterprise_id)
    application = Application(
        enterprise_id=enterprise_id,
        measure_id=rule.id,
        rule_version=rule.version,
        workflow=workflow.name,
        state=workflow.initial,
        lead_unit=cast(str, rule.lead_unit),
        district=enterprise.district,
        track=enterprise.ai_track,
        stage_entered_at=portal.now(),
        created_at=portal.now(),
        updated_at=portal.now(),
    )
    session.add(application)
    session.flush()
    append_audit(
        session,
        actor_id=actor.user_id,
        actor_role=actor.role,
        subject_type="application",
        subject_id=cast(int, application.id),
        event="create_draft",
        to_state=application.state,
        payload={"measure_id": rule.id, "rule_version": rule.version, **(payload or {})},
    )
    return application


def _latest_answers(session: Session, application_id: int) -> ApplicationAnswers | None:
    return session.exec(
        select(ApplicationAnswers)
        .where(col(ApplicationAnswers.application_id) == application_id)
        .order_by(col(ApplicationAnswers.version).desc())
    ).first()


def _identity(session: Session, portal: Portal, form: FormSpec, enterprise_id: int) -> dict[str, Any]:
    """The values of the form's locked fields: the registered identity on the verified profile."""
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound("enterprise", enterprise_id)
    profile = confirmed_profile(session, enterprise_id)
    prefilled = form.prefill(profile_facts(portal.city, profile, enterprise))
    return {f.name: prefilled[f.name] for f in form.locked_fields if f.name in prefilled}


def _identity_problems(
    session: Session,
    portal: Portal,
    form: FormSpec,
    application: Application,
    answers: dict[str, Any],
    lang: str,
    earlier: Mapping[str, Any],
) -> list[FieldProblem]:
    """Each identity field whose answer is neither the registered value nor the one stored before
    (what the form showed, if the registration has changed since); every identity field of
    `answers` is then set to the registered value, so a stale one is never kept."""
    expected = _identity(session, portal, form, application.enterprise_id)
    problems: list[FieldProblem] = []
    for name, value in expected.items():
        given = answers.get(name)
        if given is not None and given != value and given != earlier.get(name):
            label = form.fields[name].label.get(lang)
            problems.append(
                FieldProblem(
                    name,
                    f"{label}须与已核验的企业信息一致（{value}），不能修改。"
                    if lang != "en"
                    else f"{label} must be the verified profile's ({value}); it cannot be changed.",
                )
            )
        answers[name] = value
    return problems


def _within_scope(
    session: Session,
    portal: Portal,
    form: FormSpec,
    application: Application,
    answers: dict[str, Any],
    latest: ApplicationAnswers | None,
    lang: str,
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """In an amendment, only the reopened sections change: a closed section keeps its submitted
    answers, and each answer given there that differs from them is a problem."""
    _, state = workflow_of(portal, application)
    reopened = reopened_in(session, cast(int, application.id)) if state.kind == "amendment" else None
    if reopened is None:
        return answers, []
    submitted = _last_submitted(session, cast(int, application.id), latest)
    before, _ = form.coerce(submitted.answers if submitted is not None else {}, lang)
    merged = dict(answers)
    problems: list[FieldProblem] = []
    for section in form.sections:
        if section.id in reopened:
            continue
        for field in section.fields:
            if field.name in answers and answers[field.name] != before.get(field.name):
                problems.append(FieldProblem(field.name, _closed_section(section.title.get(lang), lang)))
            if field.name in before:
                merged[field.name] = before[field.name]
            else:
                merged.pop(field.name, None)
    return merged, problems


def _closed_section(title: str, lang: str) -> str:
    if lang == "en":
        return f"The section “{title}” was not reopened for amendment; it cannot be changed."
    return f"“{title}”部分未退回补正，不能修改。"


def _last_submitted(
    session: Session, application_id: int, latest: ApplicationAnswers | None
) -> ApplicationAnswers | None:
    if latest is None or latest.submitted:
        return latest
    return session.exec(
        select(ApplicationAnswers)
        .where(col(ApplicationAnswers.application_id) == application_id)
        .where(col(ApplicationAnswers.submitted).is_(True))
        .order_by(col(ApplicationAnswers.version).desc())
    ).first()


def save_draft(
    portal: Portal,
    actor: Actor,
    application_id: int,
    answers: Mapping[str, Any],
    expected_version: int,
    *,
    lang: str = "zh",
) -> Application:
    """Store the answers typed so far; an incomplete draft is fine, a mistyped value is not: any
    answer a draft may not hold refuses the whole call (ValidationFailed) and nothing is written.

    After a submission the answers are a new version, so what was submitted is kept.
    """
    saved = _save_draft(portal, actor, application_id, answers, expected_version, lang, keep_valid=False)
    return saved.application


@dataclass(frozen=True)
class DraftSaved:
    """A draft saved from the form: the case as it now is, and the answers that were refused.

    A refused answer is not stored: the draft keeps what it held for that field before."""

    application: Application
    refused: list[FieldProblem]


def save_valid_answers(
    portal: Portal,
    actor: Actor,
    application_id: int,
    answers: Mapping[str, Any],
    expected_version: int,
    *,
    lang: str = "zh",
) -> DraftSaved:
    """As `save_draft`, but an answer a draft may not hold (mistyped, over a limit, a changed
    identity field, a closed section's) is refused alone: every other answer is stored, so what
    the applicant typed right is never lost to one wrong value. One transaction, audited."""
    return _save_draft(portal, actor, application_id, answers, expected_version, lang, keep_valid=True)


def _save_draft(
    portal: Portal,
    actor: Actor,
    application_id: int,
    answers: Mapping[str, Any],
    expected_version: int,
    lang: str,
    *,
    keep_valid: bool,
) -> DraftSaved:
    with portal.transaction() as session:
        application = _owned(session, actor, application_id)
        _editable(portal, application)
        typed = dict(answers)
        refused: list[FieldProblem] = []
        row = _latest_answers(session, application_id)
        form = portal.forms.get(application.measure_id)
        if form is not None:
            typed, errors = form.coerce_draft(answers, lang, today=portal.today())
            refused = [FieldProblem(e.path, e.message) for e in errors]
            if refused and not keep_valid:
                raise ValidationFailed(refused)
            earlier, _ = form.coerce(row.answers if row is not None else {}, lang)
            for problem in refused:
                name = problem.path.split(".", 1)[0]
                if name in earlier:
                    typed[name] = earlier[name]
                else:
                    typed.pop(name, None)
            typed, out_of_scope = _within_scope(session, portal, form, application, typed, row, lang)
            if out_of_scope and not keep_valid:
                raise ValidationFailed(out_of_scope)
            identity = _identity_problems(session, portal, form, application, typed, lang, earlier)
            if identity and not keep_valid:
                raise ValidationFailed(identity)
            refused += out_of_scope + identity
            ceiling = _over_ceiling(session, portal, form, application, typed, lang)
            if ceiling is not None and ceiling.path not in {p.path for p in refused}:
                if not keep_valid:
                    raise ValidationFailed([ceiling])
                if ceiling.path in earlier:
                    typed[ceiling.path] = earlier[ceiling.path]
                else:
                    typed.pop(ceiling.path, None)
                refused.append(ceiling)
        if row is None or row.submitted:
            row = ApplicationAnswers(
                application_id=application_id,
                version=(row.version + 1) if row is not None else 1,
                answers=typed,
                created_by=actor.user_id,
                created_at=portal.now(),
            )
        else:
            row.answers = typed
        session.add(row)
        session.flush()
        bump(
            session,
            application,
            expected_version,
            {
                "answers_version": row.version,
                "track": case_track(session, portal, form, application, row.answers),
                "updated_at": portal.now(),
            },
        )
        payload: dict[str, Any] = {"answers_version": row.version, "answers_hash": payload_hash(row.answers)}
        if refused:
            payload["refused"] = sorted({p.path for p in refused})
        audit_case(session, actor, application, "save_draft", payload)
        return DraftSaved(application, refused)


def store_attachment(
    portal: Portal, actor: Actor, content: bytes, *, content_type: str, original_name: str
) -> Attachment:
    """Keep an upload under its sha256 (once per enterprise) and record its metadata.

    The caller has already checked the content type by its magic bytes.
    """
    enterprise_id = _require_enterprise(actor)
    digest = hashlib.sha256(content).hexdigest()
    created = False
    try:
        with portal.transaction() as session:
            attachment, created = attachment_for(
                session, portal, actor, enterprise_id, content, content_type, original_name
            )
            return attachment
    except BaseException:
        if created:
            portal.blobs.discard(digest)
        raise


def attachment_for(
    session: Session,
    portal: Portal,
    actor: Actor,
    enterprise_id: int,
    content: bytes,
    content_type: str,
    original_name: str,
) -> tuple[Attachment, bool]:
    """The enterprise's attachment row for these bytes, made (and audited) on first upload.

    Also says whether this call stored the bytes, so a caller whose transaction fails can
    `discard` them (files are written before the commit; database rows roll back by themselves).
    """
    digest = hashlib.sha256(content).hexdigest()
    existing = session.exec(
        select(Attachment)
        .where(col(Attachment.enterprise_id) == enterprise_id)
        .where(col(Attachment.sha256) == digest)
    ).first()
    if existing is not None:
        return existing, False
    created = portal.blobs.put(session, digest, content)
    row = Attachment(
        enterprise_id=enterprise_id,
        sha256=digest,
        size=len(content),
        content_type=content_type,
        original_name=without_bidi(Path(original_name).name) or "upload",
        uploaded_by=actor.user_id,
        uploaded_at=portal.now(),
    )
    session.add(row)
    session.flush()
    append_audit(
        session,
        actor_id=actor.user_id,
        actor_role=actor.role,
        subject_type="attachment",
        subject_id=cast(int, row.id),
        event="upload",
        payload={"sha256": digest, "size": len(content), "content_type": content_type},
    )
    return row, created


def _check_slot(session: Session, portal: Portal, application: Application, slot: str) -> None:
    """The slot exists on the form and, in an amendment, lies in a reopened section."""
    form = portal.forms.get(application.measure_id)
    if form is None:
        return
    if slot not in form.attachments:
        raise ValidationFailed([FieldProblem(slot, f"the form has no upload slot {slot!r}")])
    _, state = workflow_of(portal, application)
    reopened = reopened_in(session, cast(int, application.id)) if state.kind == "amendment" else None
    if reopened is None:
        return
    section = next(sec for sec in form.sections if any(a.id == slot for a in sec.attachments))
    if section.id not in reopened:
        raise Refused(
            "section_closed",
            f"“{section.title.zh}”部分未退回补正，不能上传文件",
            f"the section “{section.title.en}” was not reopened for amendment; nothing can be uploaded to it",
        )


def _check_kind(portal: Portal, application: Application, slot: str, media_type: str) -> None:
    """A file from the library goes only into a slot that takes its kind, as an upload does."""
    form = portal.forms.get(application.measure_id)
    kinds = form.attachments[slot].kinds if form is not None else ()
    kind = kind_of(media_type)
    if form is not None and kind not in kinds:
        raise ValidationFailed(
            [
                FieldProblem(
                    slot,
                    f"a {kind or media_type} file cannot go in slot {slot!r}",
                    "kind_not_allowed",
                    {"kind": kind or "", "allowed": kinds},
                )
            ]
        )


def _link(session: Session, portal: Portal, application_id: int, slot: str, attachment_id: int) -> None:
    """Put an attachment in a slot once; putting it there again changes nothing."""
    already = session.exec(
        select(ApplicationAttachment.id)
        .where(col(ApplicationAttachment.application_id) == application_id)
        .where(col(ApplicationAttachment.slot) == slot)
        .where(col(ApplicationAttachment.attachment_id) == attachment_id)
    ).first()
    if already is None:
        session.add(
            ApplicationAttachment(
                application_id=application_id,
                attachment_id=attachment_id,
                slot=slot,
                attached_at=portal.now(),
            )
        )


# At most this many files in one post, and on one case in all (docs/portal.md says so).
MAX_FILES_PER_POST = 4
MAX_FILES_PER_CASE = 20


@dataclass(frozen=True)
class NewFile:
    """One file of a post: its slot, its bytes, the detected content type and the name it came with."""

    slot: str
    content: bytes
    content_type: str
    original_name: str


def _within_quota(session: Session, application_id: int, count: int) -> None:
    """Refuse the whole post when its `count` files are too many, or too many for the case."""
    if count > MAX_FILES_PER_POST:
        raise ValidationFailed(
            [FieldProblem("attachments", f"at most {MAX_FILES_PER_POST} files in one post", "per_post")]
        )
    held = len(
        session.exec(
            select(ApplicationAttachment.id).where(
                col(ApplicationAttachment.application_id) == application_id
            )
        ).all()
    )
    if held + count > MAX_FILES_PER_CASE:
        raise ValidationFailed(
            [
                FieldProblem(
                    "attachments", f"at most {MAX_FILES_PER_CASE} files on one application", "per_case"
                )
            ]
        )


@dataclass(frozen=True)
class Uploaded:
    """What a post of files did: the case as it now is, and each file whose bytes the enterprise
    had uploaded before under another name (new name → the kept name), which is reused as it is."""

    application: Application
    same_as: dict[str, str]


def upload_files(
    portal: Portal, actor: Actor, application_id: int, files: list[NewFile], *, expected_version: int
) -> Uploaded:
    """Store the files of one post and put each in its slot, all in one transaction.

    Everything that can refuse them (ownership, an editable stage, each slot, the amendment
    scope, the quotas per post and per case, a stale version) is checked before anything is
    written, and files this call created are removed again if the transaction does not commit:
    a refused post leaves no attachment row, no audit row and no file.
    """
    enterprise_id = _require_enterprise(actor)
    created: list[str] = []
    same_as: dict[str, str] = {}
    try:
        with portal.transaction() as session:
            application = _owned(session, actor, application_id)
            _editable(portal, application)
            for item in files:
                _check_slot(session, portal, application, item.slot)
            if application.version != expected_version:
                raise StaleVersion("application", application_id, expected_version, application.version)
            _within_quota(session, application_id, len(files))
            for item in files:
                attachment, stored = attachment_for(
                    session, portal, actor, enterprise_id, item.content, item.content_type, item.original_name
                )
                if stored:
                    created.append(attachment.sha256)
                elif attachment.original_name != item.original_name:
                    same_as[item.original_name] = attachment.original_name
                _link(session, portal, application_id, item.slot, cast(int, attachment.id))
                audit_case(
                    session,
                    actor,
                    application,
                    "attach",
                    {"slot": item.slot, "attachment_id": attachment.id, "sha256": attachment.sha256},
                )
            if files:
                bump(session, application, expected_version, {"updated_at": portal.now()})
            return Uploaded(application, same_as)
    except BaseException:
        for digest in created:
            portal.blobs.discard(digest)
        raise


def upload(
    portal: Portal,
    actor: Actor,
    application_id: int,
    slot: str,
    content: bytes,
    *,
    content_type: str,
    original_name: str,
    expected_version: int,
) -> Application:
    """Store one upload and put it in a slot of the application (see `upload_files`)."""
    item = NewFile(slot, content, content_type, original_name)
    return upload_files(portal, actor, application_id, [item], expected_version=expected_version).application


def attach(
    portal: Portal, actor: Actor, application_id: int, slot: str, attachment_id: int, expected_version: int
) -> Application:
    """Put one of the enterprise's uploads into an upload slot of its application."""
    with portal.transaction() as session:
        application = _owned(session, actor, application_id)
        _editable(portal, application)
        _check_slot(session, portal, application, slot)
        attachment = session.get(Attachment, attachment_id)
        if attachment is None or attachment.enterprise_id != application.enterprise_id:
            raise NotFound("attachment", attachment_id)
        _check_kind(portal, application, slot, attachment.content_type)
        _within_quota(session, application_id, 1)
        _link(session, portal, application_id, slot, attachment_id)
        bump(session, application, expected_version, {"updated_at": portal.now()})
        audit_case(
            session,
            actor,
            application,
            "attach",
            {"slot": slot, "attachment_id": attachment_id, "sha256": attachment.sha256},
        )
        return application


def detach(
    portal: Portal, actor: Actor, application_id: int, slot: str, attachment_id: int, expected_version: int
) -> str:
    """Take one file out of an upload slot while the application can still be changed, and
    return its name. The file stays in the enterprise's library; the audit keeps its digest."""
    with portal.transaction() as session:
        application = _owned(session, actor, application_id)
        _editable(portal, application)
        _check_slot(session, portal, application, slot)
        found = session.exec(
            select(ApplicationAttachment, Attachment)
            .join(Attachment, col(Attachment.id) == ApplicationAttachment.attachment_id)
            .where(col(ApplicationAttachment.application_id) == application_id)
            .where(col(ApplicationAttachment.slot) == slot)
            .where(col(ApplicationAttachment.attachment_id) == attachment_id)
        ).first()
        if found is None:
            raise NotFound("attachment", attachment_id)
        link, attachment = found
        session.delete(link)
        bump(session, application, expected_version, {"updated_at": portal.now()})
        audit_case(
            session,
            actor,
            application,
            "detach",
            {"slot": slot, "attachment_id": attachment_id, "sha256": attachment.sha256},
        )
        return attachment.original_name


def facts_for_evaluation(
    portal: Portal, profile: EnterpriseProfile | None, answers: Mapping[str, Any], measure_id: str
) -> dict[str, dict[str, object]]:
    """The facts a submission is judged on: the confirmed profile, overlaid by facts the form asked
    for (without a confirmed profile, those alone: what a draft can already be told)."""
    raw: dict[str, dict[str, Any]] = copy.deepcopy(profile.facts) if profile is not None else {}
    form = portal.forms.get(measure_id)
    if form is not None:
        for field in form.fields.values():
            spec = portal.pack.facts.get(field.prefill) if field.prefill else None
            if spec is None or spec.derived or field.name not in answers:
                continue
            raw.setdefault(spec.entity, {})[spec.name] = answers[field.name]
    try:
        return portal.pack.facts.parse(raw)
    except FactError as exc:
        raise ValidationFailed([FieldProblem(exc.fact, exc.message)]) from None


def policy_ceiling(rule: Rule, result: Result) -> Decimal | None:
    """The most money the rule works out for `result`: its amount when eligible, and when
    undetermined the amount the known facts already fix (criteria still open do not change it).

    None when the rule cannot work out every money amount (a fact it reads is unknown, or only
    its upper bound is), when the case is ineligible, or when the measure grants no money.
    """
    if result.outcome is Outcome.ELIGIBLE:
        amounts, bounded = result.benefit, []
    elif result.outcome is Outcome.UNDETERMINED:
        amounts, bounded = result.potential_benefit, result.potential_up_to
    else:
        return None
    money = [name for name, spec in rule.benefit.items() if spec.type == "money"]
    if any(name not in amounts or name in bounded for name in money):
        return None
    return money_ceiling(rule, dict(amounts))


def _ceiling_problem(
    form: FormSpec, rule: Rule, result: Result, answers: Mapping[str, Any], lang: str
) -> FieldProblem | None:
    """The requested-amount field's problem when it asks for more than the rule works out;
    the server's check, said at the field as the form's own limits are."""
    requested = form.requested_amount(answers)
    if form.requested_amount_field is None or requested is None:
        return None
    ceiling = policy_ceiling(rule, result)
    if ceiling is None or requested <= ceiling:
        return None
    said = normalise_lang(lang)
    text = catalogue()["apply.error.above_ceiling"][said].format(
        ceiling=format_amount(ceiling, "money", said)
    )
    return FieldProblem(form.requested_amount_field, text, "above_ceiling", {"ceiling": ceiling})


def _over_ceiling(
    session: Session,
    portal: Portal,
    form: FormSpec,
    application: Application,
    answers: Mapping[str, Any],
    lang: str,
) -> FieldProblem | None:
    """`_ceiling_problem` for typed answers on the enterprise's confirmed facts today, as
    `submit` will judge them (before the profile is confirmed, on the answers' facts alone);
    None while no rule is in force."""
    if form.requested_amount(answers) is None:
        return None
    rule = portal.pack.select(application.measure_id, portal.today())
    if rule is None:
        return None
    profile = confirmed_profile(session, application.enterprise_id)
    try:
        facts = facts_for_evaluation(portal, profile, answers, application.measure_id)
    except ValidationFailed:  # a fact the answers cannot give yet: the submission names it
        return None
    return _ceiling_problem(form, rule, rule.evaluate(facts, portal.today(), False), answers, lang)


def ceiling_problems(
    portal: Portal, actor: Actor, application_id: int, answers: Mapping[str, Any], *, lang: str = "zh"
) -> list[FieldProblem]:
    """What `submit` would say of the amount requested in `answers` (the check page's words):
    nothing, or the requested-amount field above the most the measure's rule works out."""
    with portal.reading() as session:
        application = _owned(session, actor, application_id)
        form = portal.forms.get(application.measure_id)
        if form is None:
            return []
        typed, _ = form.coerce(answers, lang)
        problem = _over_ceiling(session, portal, form, application, typed, lang)
        return [] if problem is None else [problem]


def submit(
    portal: Portal, actor: Actor, application_id: int, expected_version: int, *, lang: str = "zh"
) -> Moved:
    """Submit (or resubmit after amendment): validate, snapshot, evaluate, fire, store, audit.

    The stored trace is the evaluation at today's date on the confirmed profile version the
    case now points at; a later profile edit cannot change it. A granted amount the lead unit
    set that the new answers put above the most that may be granted is withdrawn in the same
    transaction (`grants.withdraw_above_limit`).
    """
    with portal.transaction() as session:
        application = _owned(session, actor, application_id)
        require_verified(session, application.enterprise_id)
        _, state = workflow_of(portal, application)
        event = RESUBMIT if state.kind == "amendment" else SUBMIT
        answers_row = _latest_answers(session, application_id)
        answers: dict[str, Any] = dict(answers_row.answers) if answers_row is not None else {}
        form = portal.forms.get(application.measure_id)
        if form is not None:
            errors = form.validate(answers, lang, today=portal.today())
            if errors:
                raise ValidationFailed([FieldProblem(e.path, e.message) for e in errors])
            answers, _ = form.coerce(answers, lang)
            # Stored at the last save, the identity is refreshed: the registration may have changed.
            answers.update(_identity(session, portal, form, application.enterprise_id))
        profile = confirmed_profile(session, application.enterprise_id)
        if profile is None:
            raise profile_missing()
        rule = _rule_in_force(portal, application.measure_id)
        result = rule.evaluate(
            facts_for_evaluation(portal, profile, answers, application.measure_id), portal.today(), True
        )
        ceiling = _ceiling_problem(form, rule, result, answers, lang) if form is not None else None
        if ceiling is not None:
            raise ValidationFailed([ceiling])
        trace = {**result.to_json("zh"), "evaluated_on": portal.today().isoformat()}
        answers_version = answers_row.version if answers_row is not None else None
        if answers_row is not None:
            answers_row.submitted = True
            session.add(answers_row)
        _record_submitted_files(session, portal, application_id, answers_version)
        context = case_context(session, portal, application, actor, eligibility_outcome=result.outcome.value)
        extra: dict[str, Any] = {
            "profile_version": profile.version,
            "answers_version": answers_version,
            "rule_version": rule.version,
            "rule_hash": result.rule_hash,
            "eligibility_outcome": result.outcome.value,
            "eligibility_trace": trace,
            "submitted_at": portal.now(),
            "track": case_track(session, portal, form, application, answers),
        }
        moved = advance(
            session,
            portal,
            application,
            actor,
            event,
            comment=None,
            expected_version=expected_version,
            context=context,
            extra_values=extra,
            audit_payload={
                "profile_version": profile.version,
                "answers_version": answers_version,
                "outcome": result.outcome.value,
                "rule_hash": result.rule_hash,
            },
        )
        # New answers may ask for less than the amount the lead unit set: that amount no longer stands.
        version = withdraw_above_limit(session, portal, application, moved.version)
        return replace(moved, version=version)


def submissions_made(session: Session, application_id: int) -> int:
    """How many times the case has been submitted (its submit and resubmit transitions)."""
    return session.exec(
        select(func.count())
        .select_from(Transition)
        .where(col(Transition.application_id) == application_id)
        .where(col(Transition.event).in_((SUBMIT, RESUBMIT)))
    ).one()


def _record_submitted_files(
    session: Session, portal: Portal, application_id: int, answers_version: int | None
) -> None:
    """Keep which file is in which slot as this submission sends it: an amendment may later remove
    or replace a file, and what each submission held must stay on record."""
    submission = submissions_made(session, application_id) + 1
    links = session.exec(
        select(ApplicationAttachment).where(col(ApplicationAttachment.application_id) == application_id)
    ).all()
    for link in links:
        session.add(
            SubmittedAttachment(
                application_id=application_id,
                submission=submission,
                answers_version=answers_version,
                slot=link.slot,
                attachment_id=link.attachment_id,
                submitted_at=portal.now(),
            )
        )


def transition(
    portal: Portal, actor: Actor, application_id: int, event: str, comment: str | None, expected_version: int
) -> Moved:
    """Fire a review event (accept, approve, return, reject, disburse, ...) as `actor`.

    Stale `expected_version` → StaleVersion; a refused event → Refused; either way nothing changes.
    A case in a payment batch is disbursed by the bank's return file, not here.
    """
    with portal.transaction() as session:
        application = load_visible_row(session, actor, application_id)
        refuse_if_batched(session, portal, application, event)
        return _review_event(session, portal, actor, application, event, comment, expected_version)


def transition_in(
    session: Session,
    portal: Portal,
    actor: Actor,
    application_id: int,
    event: str,
    comment: str | None,
    expected_version: int,
    *,
    audit_payload: dict[str, object] | None = None,
) -> Moved:
    """`transition` inside the caller's transaction: a bank return file settles all its cases in one."""
    application = load_visible(session, actor, application_id)
    return _review_event(
        session, portal, actor, application, event, comment, expected_version, audit_payload=audit_payload
    )


def _review_event(
    session: Session,
    portal: Portal,
    actor: Actor,
    application: Case,
    event: str,
    comment: str | None,
    expected_version: int,
    *,
    audit_payload: dict[str, object] | None = None,
) -> Moved:
    """Fire a review event on a case the actor may see; events with a use case of their own are refused."""
    if event in _OWN_USE_CASE:
        workflow, _ = workflow_of(portal, application)
        label = next((edge.label for edge in workflow.transitions if edge.event == event), None)
        raise Refused(
            "use_own_service",
            f"“{label.zh}”须在其专门页面办理" if label else "该操作须在其专门页面办理",
            f"{label.en} is done on its own page" if label else "This action is done on its own page",
            detail=f"{event} goes through {_OWN_USE_CASE[event]}",
        )
    return advance(
        session,
        portal,
        application,
        actor,
        event,
        comment=comment,
        expected_version=expected_version,
        audit_payload=audit_payload,
    )


def withdraw(
    portal: Portal, actor: Actor, application_id: int, expected_version: int, comment: str | None = None
) -> Moved:
    """The enterprise takes its application back (allowed until approval, per the workflow)."""
    return transition(portal, actor, application_id, WITHDRAW, comment, expected_version)


def allowed_events(portal: Portal, actor: Actor, application_id: int) -> list[EventSpec]:
    """The buttons to show this actor on this case: exactly what the engine would accept."""
    with portal.reading() as session:
        application = load_visible(session, actor, application_id)
        workflow, _ = workflow_of(portal, application)
        allowed = workflow.allowed_events(
            application.state, actor, case_context(session, portal, application, actor)
        )
        held = batched_event(session, portal, application, {event.name for event in allowed})
        return [event for event in allowed if event.name != held]


def history(portal: Portal, actor: Actor, application_id: int) -> list[Transition]:
    """The case's transitions, oldest first, with comments (the reasons for returns and rejections).

    The enterprise does not see the panel's own steps (an expert's declaration, an expert's
    score): who sits on the panel and when each scores stay with the reviewers; the enterprise
    sees the stage and the panel's outcome.
    """
    with portal.reading() as session:
        application = load_visible(session, actor, application_id)
        moves = list(
            session.exec(
                select(Transition)
                .where(col(Transition.application_id) == application_id)
                .order_by(col(Transition.id))
            ).all()
        )
        if actor.role != "enterprise":
            return moves
        workflow, _ = workflow_of(portal, application)
        panel_only = {
            (edge.event, edge.source) for edge in workflow.transitions if edge.roles == frozenset({"expert"})
        }
        return [move for move in moves if (move.event, move.from_state) not in panel_only]


def answer_versions(portal: Portal, actor: Actor, application_id: int) -> list[ApplicationAnswers]:
    """Every stored version of the answers, oldest first; experts must have declared first."""
    with portal.reading() as session:
        application = load_visible(session, actor, application_id)
        if actor.role == "expert" and not case_context(session, portal, application, actor).coi_declared:
            raise Forbidden(
                "请先签署无利益冲突声明", "sign the no-conflict declaration before reading the file"
            )
        return list(
            session.exec(
                select(ApplicationAnswers)
                .where(col(ApplicationAnswers.application_id) == application_id)
                .order_by(col(ApplicationAnswers.version))
            ).all()
        )
