"""Bulk actions on the queue: the same event on several cases, each its own transaction.

Only events the workflow lets a reviewer take from an intake stage without a comment are
offered in bulk (accepting several intakes); anything that judges a case stays one at a time.
Each case carries the version the reviewer saw, so a case someone changed meanwhile is left
as it is and reported, while the others still move. Before anything is done, `preview_bulk`
sorts the selection into the cases the action can be taken on now and those left out, each
with its reason, so the confirm page offers only what the run would do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from portal.db.tables import Application
from portal.services import applications
from portal.services.access import get_application_for
from portal.services.context import Portal
from portal.services.errors import Forbidden, NotFound, Refused, StaleVersion
from portal.services.queue import my_measures, takes, workflows_of
from portal.workflows import Actor

Outcome = Literal["done", "stale", "refused", "not_found"]
MAX_BULK = 100


@dataclass(frozen=True)
class BulkOutcome:
    """What became of one case: `done`, `stale` (changed since seen), `refused` or `not_found`."""

    application_id: int
    outcome: Outcome


def bulk_events(portal: Portal, actor: Actor) -> dict[str, dict[str, str]]:
    """The events this actor may take in bulk: {event: its zh/en label}, in workflow order."""
    events: dict[str, dict[str, str]] = {}
    for name in workflows_of(my_measures(portal, actor)):
        workflow = portal.workflows[name]
        for edge in workflow.transitions:
            if workflow.state(edge.source).kind != "intake" or edge.comment_required:
                continue
            if takes(actor, edge.roles, edge.jurisdiction):
                events.setdefault(edge.event, {"zh": edge.label.zh, "en": edge.label.en})
    return events


@dataclass(frozen=True)
class BulkCase:
    """One selected case as the confirm page shows it, and the version the reviewer saw.

    `application` is None for a case the reviewer may not see (or that does not exist): its id
    is all that is said of it.
    """

    application_id: int
    version: int
    application: Application | None
    # Why it is left out (`stale`, `refused`, `not_found`); None when the action can be taken.
    left_out: Outcome | None = None


@dataclass(frozen=True)
class BulkPreview:
    """The selection sorted: the cases the action would be taken on, and those left out."""

    ready: list[BulkCase]
    left_out: list[BulkCase]


def preview_bulk(portal: Portal, actor: Actor, event: str, cases: list[tuple[int, int]]) -> BulkPreview:
    """What `run_bulk` would do with this selection now, before anything is done.

    A case is left out when it is not within the reviewer's remit, has changed since it was
    seen, or its stage does not offer the event to this reviewer (a withdrawn case, one already
    accepted); the others are ready, in the order given.
    """
    if event not in bulk_events(portal, actor):
        raise Refused("not_bulk", "该操作不能批量办理", "this action cannot be taken in bulk")
    ready: list[BulkCase] = []
    left_out: list[BulkCase] = []
    for application_id, version in cases[:MAX_BULK]:
        try:
            application = get_application_for(portal, actor, application_id)
        except NotFound:
            left_out.append(BulkCase(application_id, version, None, "not_found"))
            continue
        if application.version != version:
            left_out.append(BulkCase(application_id, version, application, "stale"))
        elif event not in {e.name for e in applications.allowed_events(portal, actor, application_id)}:
            left_out.append(BulkCase(application_id, version, application, "refused"))
        else:
            ready.append(BulkCase(application_id, version, application))
    return BulkPreview(ready, left_out)


def run_bulk(portal: Portal, actor: Actor, event: str, cases: list[tuple[int, int]]) -> list[BulkOutcome]:
    """Fire `event` on each (case id, version seen), one transaction per case, in the order given."""
    if event not in bulk_events(portal, actor):
        raise Refused("not_bulk", "该操作不能批量办理", "this action cannot be taken in bulk")
    outcomes = []
    for application_id, version in cases[:MAX_BULK]:
        outcome: Outcome = "done"
        try:
            applications.transition(portal, actor, application_id, event, None, version)
        except StaleVersion:
            outcome = "stale"
        except (Refused, Forbidden):
            outcome = "refused"
        except NotFound:
            outcome = "not_found"
        outcomes.append(BulkOutcome(application_id, outcome))
    return outcomes
