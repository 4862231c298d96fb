"""Jurisdiction rules and named guards: the predicates a workflow file may refer to by name.

Keeping them in two closed tables means a typo in a YAML file is a load error, not a guard
that silently never matches.
"""

from collections.abc import Callable
from typing import Final

from portal.workflows.context import Actor, CaseContext
from portal.workflows.spec import Label

Predicate = Callable[[Actor, CaseContext], bool]


def _district(actor: Actor, case: CaseContext) -> bool:
    return actor.district is not None and actor.district == case.district


def _bureau(actor: Actor, case: CaseContext) -> bool:
    return actor.bureau is not None and actor.bureau == case.lead_unit


def _owner(actor: Actor, case: CaseContext) -> bool:
    return actor.enterprise_id is not None and actor.enterprise_id == case.enterprise_id


def _bank(actor: Actor, case: CaseContext) -> bool:
    return actor.bank_id is not None and actor.bank_id == case.bank_id


def _assigned(actor: Actor, case: CaseContext) -> bool:
    return actor.user_id in case.assigned_expert_ids


def _anyone(actor: Actor, case: CaseContext) -> bool:
    return True


JURISDICTIONS: Final[dict[str, tuple[Predicate, Label]]] = {
    "none": (_anyone, Label(zh="不限辖区", en="any jurisdiction")),
    "district": (_district, Label(zh="须为本区审核人员", en="reviewer of the enterprise's district")),
    "bureau": (_bureau, Label(zh="须为牵头单位审核人员", en="reviewer of the measure's lead unit")),
    "owner": (_owner, Label(zh="须为申报企业本身", en="the applying enterprise itself")),
    "bank": (_bank, Label(zh="须为登记该贷款的银行", en="the bank that registered the loan")),
    "assigned": (_assigned, Label(zh="须为本案指派的专家", en="an expert assigned to this case")),
}


GUARDS: Final[dict[str, tuple[Predicate, Label]]] = {
    "attachments_complete": (
        lambda _a, c: c.attachments_complete,
        Label(zh="必需附件尚未上传齐全", en="required attachments are missing"),
    ),
    # Not evaluated yet (None) also fails: submitting must never skip the eligibility check.
    "eligibility_not_ineligible": (
        lambda _a, c: c.eligibility_outcome is not None and c.eligibility_outcome != "ineligible",
        Label(zh="资格审查结果为不符合或尚未评估", en="eligibility is ineligible or not yet evaluated"),
    ),
    "coi_declared": (
        lambda _a, c: c.coi_declared,
        Label(zh="尚未签署无利益冲突声明", en="the no-conflict declaration is not signed"),
    ),
    "coi_not_declared": (
        lambda _a, c: not c.coi_declared,
        Label(zh="已签署无利益冲突声明", en="the no-conflict declaration is already signed"),
    ),
    "scores_passed": (
        lambda _a, c: c.scores_passed is True,
        Label(zh="专家评分未达合格线或评分人数不足", en="expert scores are below the pass mark or too few"),
    ),
    "notice_elapsed": (
        lambda _a, c: c.notice_elapsed,
        Label(zh="公示期尚未届满", en="the public notice period has not ended"),
    ),
    # A pending objection blocks approval too: it may yet be sustained.
    "no_sustained_objection": (
        lambda _a, c: not c.objection_sustained and not c.objection_pending,
        Label(zh="存在成立或待处理的异议", en="an objection is sustained or still pending"),
    ),
    "objection_pending": (
        lambda _a, c: c.objection_pending,
        Label(zh="没有待处理的异议", en="no objection is pending"),
    ),
    # Only a case whose benefit includes money can be disbursed; status-only ones close at approval.
    "money_benefit": (
        lambda _a, c: c.money_benefit,
        Label(zh="该事项不涉及资金兑现", en="the measure grants no money"),
    ),
    "no_money_benefit": (
        lambda _a, c: not c.money_benefit,
        Label(zh="该事项涉及资金兑现", en="the measure grants money"),
    ),
}
