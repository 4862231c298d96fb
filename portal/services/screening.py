"""免申即享: screen the portal's own enterprise register and tell enterprises what they qualify for.

The screening itself is `portal.screening` (pure, SQL); this module is the database side: the
register as screening records, and the notifications, written in one transaction. Notices are
deduplicated by `screening:<measure>:<version>:<enterprise id>`, so a nightly re-run tells nobody
twice, while a new rule version may tell them again.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import func
from sqlmodel import Session, col, select

from portal.city import split_fact
from portal.db.tables import Application, Enterprise, EnterpriseProfile, Notification
from portal.rules import Rule
from portal.services.auto_grant import offer_case
from portal.services.channels import can_apply_online
from portal.services.context import Portal
from portal.services.notifications import SCREENING_KIND, notify, screening_key


def register_records(portal: Portal) -> list[dict[str, object]]:
    """The latest profile of every enterprise, as screening rows keyed by the enterprise id."""
    with portal.reading() as session:
        latest = (
            select(EnterpriseProfile.enterprise_id, func.max(EnterpriseProfile.version).label("version"))
            .group_by(col(EnterpriseProfile.enterprise_id))
            .subquery()
        )
        rows = session.exec(
            select(Enterprise, EnterpriseProfile)
            .join(EnterpriseProfile, col(EnterpriseProfile.enterprise_id) == col(Enterprise.id))
            .join(
                latest,
                (latest.c.enterprise_id == col(EnterpriseProfile.enterprise_id))
                & (latest.c.version == col(EnterpriseProfile.version)),
            )
            .order_by(col(Enterprise.id))
        ).all()
    records: list[dict[str, object]] = []
    for enterprise, profile in rows:
        # The register's identity fields are authoritative: they were validated at registration.
        registered = portal.city.registered_facts(
            name=enterprise.name, code=enterprise.uscc, district=enterprise.district
        )
        entity = split_fact(portal.city.jurisdictions.fact)[0]
        facts = {**profile.facts.get(entity, {}), **registered.get(entity, {}), "uscc": enterprise.uscc}
        records.append({"row_id": str(enterprise.id), **facts})
    return records


@dataclass(frozen=True)
class ScreeningHit:
    """A measure the screening found an enterprise eligible for, and when it was told."""

    measure_id: str
    version: str
    notified_at: datetime


def hits_for(session: Session, enterprise_id: int) -> list[ScreeningHit]:
    """The enterprise's screening hits, newest first, read back from the notices they produced
    (their dedupe key is `notifications.screening_key`: kind, measure, version, enterprise)."""
    notices = session.exec(
        select(Notification)
        .where(col(Notification.enterprise_id) == enterprise_id)
        .where(col(Notification.kind) == SCREENING_KIND)
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
    ).all()
    hits = []
    for notice in notices:
        parts = (notice.dedupe_key or "").split(":")
        if len(parts) == 4 and parts[1]:
            hits.append(ScreeningHit(parts[1], parts[2], notice.created_at))
    return hits


def notify_eligible(portal: Portal, results: pa.Table, rules: Sequence[Rule]) -> int:
    """Notify each enterprise eligible for a measure it has not applied to; returns notices written.

    For an `auto_grant` measure applied for through a form, the hit also opens a case waiting for
    the enterprise's confirmation (免申即享). Any existing case for the measure, in whatever state,
    means no second one: re-running a screening creates nothing new.

    `results` is a screening OUT table of `register_records` rows (row_id = enterprise id).
    """
    with portal.transaction() as session:
        return notify_eligible_in(session, portal, results, rules)


def notify_eligible_in(session: Session, portal: Portal, results: pa.Table, rules: Sequence[Rule]) -> int:
    """`notify_eligible` inside the caller's transaction (a screening run records its count in it)."""
    by_id = {rule.id: rule for rule in rules}
    eligible = results.filter(pc.equal(results.column("outcome"), "eligible"))
    pairs = [
        (int(row_id), measure)
        for row_id, measure in zip(
            eligible.column("row_id").to_pylist(), eligible.column("measure").to_pylist(), strict=True
        )
    ]
    written = 0
    applied = set(session.exec(select(Application.enterprise_id, Application.measure_id)).all())
    for enterprise_id, measure in pairs:
        if (enterprise_id, measure) in applied:
            continue
        rule = by_id[measure]
        applied.add((enterprise_id, measure))
        online = can_apply_online(portal, rule)
        case = offer_case(session, portal, rule, enterprise_id) if rule.auto_grant and online else None
        if case is not None:
            link = f"/applications/{case.id}/confirm"
            message = "note.screening_confirm"
        elif rule.auto_grant:
            link = f"/catalogue/{measure}"
            message = "note.screening_granted"
        else:
            # The application form opens prefilled from the profile.
            link = f"/applications/start?measure={measure}" if online else f"/catalogue/{measure}"
            message = "note.screening_eligible"
        written += notify(
            session,
            kind=SCREENING_KIND,
            enterprise_id=enterprise_id,
            link=link,
            dedupe_key=screening_key(measure, rule.version, enterprise_id),
            message=message,
            # A 免申即享 offer opens a case: the note names it like any other about a case.
            params={"measure": measure, "version": rule.version}
            | ({"id": case.id} if case is not None else {}),
        )
    return written
