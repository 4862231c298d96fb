"""Why an actor may not take a transition, as a bilingual `TransitionRefused` (or None if they may).

The same function guards the state machine (as a validator) and filters the buttons the
portal shows, so the UI can never offer an action the engine would refuse.
"""

from portal.workflows.checks import GUARDS, JURISDICTIONS
from portal.workflows.context import Actor, CaseContext
from portal.workflows.errors import TransitionRefused
from portal.workflows.spec import TransitionSpec


def refusal_for(
    transition: TransitionSpec,
    actor: Actor,
    case: CaseContext,
    comment: str | None,
    *,
    check_comment: bool,
) -> TransitionRefused | None:
    """The first reason, in order role → jurisdiction → guards → comment, or None."""
    if actor.role not in transition.roles:
        roles = sorted(transition.roles)
        return TransitionRefused(
            "wrong_role",
            f"角色“{actor.role}”无权执行“{transition.label.zh}”（允许：{'、'.join(roles)}）",
            f"role {actor.role!r} may not {transition.label.en.lower()} (allowed: {', '.join(roles)})",
        )
    matches, rule = JURISDICTIONS[transition.jurisdiction]
    if not matches(actor, case):
        return TransitionRefused(
            "wrong_jurisdiction",
            f"不在管辖范围内：{rule.zh}",
            f"outside your jurisdiction: {transition.label.en.lower()} needs the {rule.en}",
            detail=transition.jurisdiction,
        )
    for guard in transition.guards:
        holds, failure = GUARDS[guard]
        if not holds(actor, case):
            return TransitionRefused(
                "guard_failed",
                f"不能执行“{transition.label.zh}”：{failure.zh}",
                f"cannot {transition.label.en.lower()}: {failure.en}",
                detail=guard,
            )
    if check_comment and transition.comment_required and not (comment and comment.strip()):
        return TransitionRefused(
            "comment_required",
            f"“{transition.label.zh}”须填写意见或理由",
            f"{transition.label.en} requires a comment giving the reasons",
        )
    return None
