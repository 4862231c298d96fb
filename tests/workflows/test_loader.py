"""A workflow file with any mistake is refused at load time, naming the file and the field."""

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from wf_helpers import WORKFLOWS_DIR

from portal.workflows import Workflow, WorkflowFileError, load_workflow, load_workflows
from portal.workflows.spec import ReplyPeriod


def test_the_pack_declares_four_workflows(workflows: dict[str, Workflow]) -> None:
    assert sorted(workflows) == ["bank_loan", "identity_check", "municipal", "short_track"]


def test_municipal_shape(workflows: dict[str, Workflow]) -> None:
    wf = workflows["municipal"]
    assert wf.initial == "draft"
    main_line = [
        "draft",
        "submitted",
        "district_review",
        "bureau_review",
        "expert_review",
        "public_notice",
        "approved",
        "disbursed",
    ]
    edges = {(e.source, e.target) for e in wf.transitions}
    assert all((a, b) in edges for a, b in itertools.pairwise(main_line))
    notice = wf.state("public_notice")
    assert notice.timer is not None
    assert (notice.timer.calendar_days, notice.timer.event) == (7, "close_notice")
    assert wf.state("returned_for_amendment").paused_sla
    assert wf.state("returned_for_amendment").reply_within == ReplyPeriod(15, "working_days", 3)
    assert wf.state("district_review").label.zh == "区级初审"


Change = Callable[[dict[str, Any]], object]


def mutated(tmp_path: Path, name: str, change: Change) -> Path:
    data = yaml.safe_load((WORKFLOWS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _first(data: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = data["transitions"][0]
    return first


MISTAKES: dict[str, tuple[Change, str]] = {
    "unknown role": (lambda d: _first(d).update(roles=["clerk"]), "transitions[0].roles"),
    "unknown guard": (lambda d: _first(d).update(guards=["attachments_complet"]), "transitions[0].guards"),
    "unknown jurisdiction": (lambda d: _first(d).update(jurisdiction="city"), "transitions[0].jurisdiction"),
    "unknown target": (lambda d: _first(d).update(to="submited"), "transitions[0].to"),
    "typo in a key": (lambda d: _first(d).update(comment_requried=True), "comment_requried"),
    "missing label language": (lambda d: _first(d).update(label={"zh": "提交"}), "transitions[0].label"),
    "comment flag not boolean": (lambda d: _first(d).update(comment_required="yes"), "comment_required"),
    "terminal with a way out": (
        lambda d: d["transitions"].append({**_first(d), "from": "disbursed"}),
        "terminal state",
    ),
    "dead-end state": (
        lambda d: d["states"].update(limbo={"label": {"zh": "悬", "en": "Limbo"}, "kind": "review"}),
        "states.limbo",
    ),
    "unreachable state": (
        lambda d: (
            d["states"].update(limbo={"label": {"zh": "悬", "en": "Limbo"}, "kind": "review"}),
            d["transitions"].append({**_first(d), "from": "limbo", "to": "draft"}),
        ),
        "unreachable",
    ),
    "SLA without escalation": (lambda d: d["states"]["submitted"].pop("escalate_to"), "escalate_to"),
    "timer event not for system": (
        lambda d: d["states"]["public_notice"].update(timer={"calendar_days": 7, "event": "withdraw"}),
        "timer",
    ),
    "bad SLA": (lambda d: d["states"]["submitted"].update(sla_working_days=0), "sla_working_days"),
    "event named like a state": (lambda d: _first(d).update(event="approved"), "also a state name"),
    "duplicate edge": (lambda d: d["transitions"].append(_first(d)), "declared twice"),
    "name differs from file": (lambda d: d.update(name="other"), "file name"),
    "unknown initial": (lambda d: d.update(initial="start"), "initial"),
    "unknown letter kind": (
        lambda d: d["states"]["approved"].update(issues_letter="certificate"),
        "states.approved.issues_letter",
    ),
    "decision without its letter": (
        lambda d: d["states"]["approved"].pop("issues_letter"),
        "`decides` goes with",
    ),
    "approval letter recording a rejection": (
        lambda d: d["states"]["approved"].update(decides="rejected"),
        "an approval letter records",
    ),
    "two targets of one event without when": (
        lambda d: d["transitions"].append({**_first(d), "to": "withdrawn"}),
        "give each a different `when`",
    ),
    "unknown when": (lambda d: _first(d).update(when="sunny"), "transitions[0].when"),
    "reply period on a review stage": (
        lambda d: d["states"]["district_review"].update(reply_within={"working_days": 5}),
        "states.district_review.reply_within: only a `kind: amendment` state",
    ),
    "reply period on a stage the reviewers answer": (
        lambda d: d["states"]["returned_for_amendment"].update(responsible="district"),
        "states.returned_for_amendment.reply_within: only",
    ),
    "reply period in two counts": (
        lambda d: d["states"]["returned_for_amendment"].update(
            reply_within={"working_days": 15, "calendar_days": 20}
        ),
        "states.returned_for_amendment.reply_within: give exactly one",
    ),
    "reply period of no days": (
        lambda d: d["states"]["returned_for_amendment"].update(reply_within={"working_days": 0}),
        "states.returned_for_amendment.reply_within.working_days",
    ),
    "reply period in weeks": (
        lambda d: d["states"]["returned_for_amendment"].update(reply_within={"weeks": 2}),
        "states.returned_for_amendment.reply_within: unknown key(s) ['weeks']",
    ),
    "reminder of no days": (
        lambda d: d["states"]["returned_for_amendment"].update(
            reply_within={"working_days": 15, "remind_before_working_days": 0}
        ),
        "states.returned_for_amendment.reply_within.remind_before_working_days: 0 must be a positive",
    ),
    "reminder as text": (
        lambda d: d["states"]["returned_for_amendment"].update(
            reply_within={"working_days": 15, "remind_before_working_days": "3"}
        ),
        "states.returned_for_amendment.reply_within.remind_before_working_days: '3' must be",
    ),
    "reminder not before the period starts": (
        lambda d: d["states"]["returned_for_amendment"].update(
            reply_within={"calendar_days": 5, "remind_before_working_days": 5}
        ),
        "states.returned_for_amendment.reply_within.remind_before_working_days: must be fewer than the 5",
    ),
    "reminder without a period": (
        lambda d: d["states"]["returned_for_amendment"].update(
            reply_within={"remind_before_working_days": 3}
        ),
        "states.returned_for_amendment.reply_within: give exactly one",
    ),
    "reply period as a bare number": (
        lambda d: d["states"]["returned_for_amendment"].update(reply_within=15),
        "states.returned_for_amendment.reply_within: must be a mapping",
    ),
}


@pytest.mark.parametrize(("change", "where"), MISTAKES.values(), ids=MISTAKES.keys())
def test_mistakes_are_refused(tmp_path: Path, change: Change, where: str) -> None:
    path = mutated(tmp_path, "municipal", change)
    with pytest.raises(WorkflowFileError) as info:
        load_workflow(path)
    assert info.value.path == path
    assert where in info.value.message and "\n" not in str(info.value)


def _without_reply_period(data: dict[str, Any]) -> object:
    """A workflow file as written before `reply_within` existed."""
    return data["states"]["returned_for_amendment"].pop("reply_within")


def test_a_reply_period_in_calendar_days_loads_and_older_files_need_none(tmp_path: Path) -> None:
    path = mutated(
        tmp_path,
        "municipal",
        lambda d: d["states"]["returned_for_amendment"].update(reply_within={"calendar_days": 20}),
    )
    state = load_workflow(path).state("returned_for_amendment")
    assert state.reply_within == ReplyPeriod(20, "calendar_days")
    without = mutated(tmp_path, "short_track", _without_reply_period)
    assert load_workflow(without).state("returned_for_amendment").reply_within is None


def test_unreadable_yaml_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(WorkflowFileError, match="no workflow files"):
        load_workflows(tmp_path)
    broken = tmp_path / "municipal.yaml"
    broken.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(WorkflowFileError, match="cannot read YAML"):
        load_workflows(tmp_path)


def test_a_workflow_file_that_is_not_utf8_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "municipal.yaml"
    path.write_bytes(b"\xff\xfe" + "name: municipal".encode("utf-16-le"))
    with pytest.raises(WorkflowFileError, match="cannot read YAML"):
        load_workflow(path)
