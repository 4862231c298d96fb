"""Who may see which case: object-level authorization shared by every read and write.

The workflow engine decides who may *fire* an event; reading a case is decided here. An
object the actor may not see is reported as NotFound, so probing ids reveals nothing.
"""

from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import cache
from typing import Any, TypeAlias, cast

from sqlalchemy import ColumnElement, Select, Table, and_, bindparam, exists, false, or_, true
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from portal.db.tables import Application, ExpertAssignment, User
from portal.services.context import Portal
from portal.services.errors import Forbidden, NotFound
from portal.workflows import Actor, Role

DRAFT_STATE = "draft"


def actor_of(user: User) -> Actor:
    """The engine's view of a signed-in user."""
    if user.id is None:
        raise ValueError("an unsaved user cannot act")
    return Actor(
        user_id=user.id,
        role=cast(Role, user.role),
        district=user.district,
        bureau=user.bureau,
        enterprise_id=user.enterprise_id,
    )


def actor_for_user(portal: Portal, user_id: int) -> Actor:
    """Load an active user as an Actor; a deactivated account acts no more."""
    with portal.reading() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("user", user_id)
        if not user.active:
            raise Forbidden("账户已停用", "the account is deactivated")
        return actor_of(user)


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """The WHERE clause of "applications this actor may see" (lists and single reads alike).

    The actor's attributes enter as named parameters (`_actor_params`), so one statement
    serves every actor of the same shape (`_visible_query`).
    """
    not_draft = col(Application.state) != DRAFT_STATE
    if actor.role == "admin":
        return true()
    if actor.role == "enterprise":
        if actor.enterprise_id is None:
            return false()
        return col(Application.enterprise_id) == bindparam("actor_enterprise", actor.enterprise_id)
    if actor.role == "reviewer":
        scopes: list[ColumnElement[bool]] = []
        if actor.district is not None:
            scopes.append(col(Application.district) == bindparam("actor_district", actor.district))
        if actor.bureau is not None:
            scopes.append(col(Application.lead_unit) == bindparam("actor_bureau", actor.bureau))
        return and_(not_draft, or_(*scopes)) if scopes else false()
    if actor.role == "expert":
        assigned = exists().where(
            col(ExpertAssignment.application_id) == Application.id,
            col(ExpertAssignment.expert_id) == bindparam("actor_user", actor.user_id),
            col(ExpertAssignment.excluded_at).is_(None),
        )
        return and_(not_draft, assigned)
    return false()


def _actor_params(actor: Actor) -> dict[str, object]:
    return {
        "actor_enterprise": actor.enterprise_id,
        "actor_district": actor.district,
        "actor_bureau": actor.bureau,
        "actor_user": actor.user_id,
    }


@dataclass(frozen=True, slots=True)
class CaseRow:
    """The columns of an application that moving it reads, as stored before the move.

    `transition` reads these with a Core select: loading and tracking the ORM object cost about
    a tenth of a whole transition, for a row the use case never returns.
    """

    id: int
    workflow: str
    state: str
    version: int
    enterprise_id: int
    measure_id: str
    rule_version: str
    district: str
    lead_unit: str
    returned_from: str | None
    eligibility_outcome: str | None
    stage_entered_at: datetime | None
    due_on: date | None
    sla_paused_at: datetime | None
    assignee_id: int | None
    # Only the `benefit` of the eligibility trace: decoding the whole trace cost more than reading the row.
    benefit: dict[str, Any] | None


Case: TypeAlias = Application | CaseRow
"""A case as the services that move it read it: the ORM row, or the columns of a `CaseRow`."""

_APPLICATION: Table = Application.__table__  # type: ignore[attr-defined]
_CASE_COLUMNS: list[ColumnElement[Any]] = [
    *(_APPLICATION.c[field.name] for field in fields(CaseRow) if field.name != "benefit"),
    _APPLICATION.c.eligibility_trace["benefit"].label("benefit"),
]


def _shape(role: Role, district: bool, bureau: bool, enterprise: bool) -> Actor:
    """A stand-in actor with the given attributes present: `visible_to` binds their values as parameters."""
    return Actor(
        user_id=0,
        role=role,
        district="" if district else None,
        bureau="" if bureau else None,
        enterprise_id=0 if enterprise else None,
    )


@cache
def _visible_query(role: Role, district: bool, bureau: bool, enterprise: bool) -> SelectOfScalar[Application]:
    """One application by id for actors of one shape, built once: building a statement and
    its cache key costs more than running it."""
    by_id = col(Application.id) == bindparam("application_id")
    return select(Application).where(by_id).where(visible_to(_shape(role, district, bureau, enterprise)))


@cache
def _visible_row_query(role: Role, district: bool, bureau: bool, enterprise: bool) -> Select[Any]:
    """`_visible_query` for the columns of a `CaseRow`."""
    by_id = _APPLICATION.c.id == bindparam("application_id")
    return (
        core_select(*_CASE_COLUMNS).where(by_id).where(visible_to(_shape(role, district, bureau, enterprise)))
    )


def is_lead_unit_staff(actor: Actor, application: Application) -> bool:
    """An admin, or a reviewer of the bureau leading the case: who manages its panel and its letters."""
    return actor.role == "admin" or (actor.role == "reviewer" and actor.bureau == application.lead_unit)


def load_visible(session: Session, actor: Actor, application_id: int) -> Application:
    """The application if this actor may see it, else NotFound (whether or not it exists)."""
    query = _visible_query(*_shape_key(actor))
    params = {"application_id": application_id, **_actor_params(actor)}
    application = session.exec(query, params=params).first()
    if application is None:
        raise NotFound("application", application_id)
    return application


def load_visible_row(session: Session, actor: Actor, application_id: int) -> CaseRow:
    """`load_visible` as a `CaseRow`, for a use case that moves the case and returns no row."""
    query = _visible_row_query(*_shape_key(actor))
    params = {"application_id": application_id, **_actor_params(actor)}
    row = session.connection().execute(query, params).first()
    if row is None:
        raise NotFound("application", application_id)
    return CaseRow(**row._mapping)


def _shape_key(actor: Actor) -> tuple[Role, bool, bool, bool]:
    return actor.role, actor.district is not None, actor.bureau is not None, actor.enterprise_id is not None


def same_measure_cases(portal: Portal, actor: Actor, application: Application) -> list[Application]:
    """The enterprise's other cases for the same measure that this actor may see, oldest first.

    A second application for a measure the enterprise already applied for, or was granted, is
    the reviewer's to weigh (a new round, or the same money asked twice): the case page says so.
    """
    query = (
        select(Application)
        .where(visible_to(actor))
        .where(col(Application.enterprise_id) == application.enterprise_id)
        .where(col(Application.measure_id) == application.measure_id)
        .where(col(Application.id) != application.id)
        .order_by(col(Application.id))
    )
    with portal.reading() as session:
        return list(session.exec(query).all())


def get_application_for(portal: Portal, actor: Actor, application_id: int) -> Application:
    """One application as this actor may see it; NotFound for others' and for missing ones."""
    with portal.reading() as session:
        return load_visible(session, actor, application_id)


def list_applications_for(
    portal: Portal,
    actor: Actor,
    *,
    states: list[str] | None = None,
    measure_id: str | None = None,
    district: str | None = None,
    limit: int = 200,
) -> list[Application]:
    """The actor's queue or case list, soonest deadline first (cases without one last)."""
    query = select(Application).where(visible_to(actor))
    if states:
        query = query.where(col(Application.state).in_(states))
    if measure_id is not None:
        query = query.where(Application.measure_id == measure_id)
    if district is not None:
        query = query.where(Application.district == district)
    query = query.order_by(
        col(Application.due_on).is_(None), col(Application.due_on), col(Application.id)
    ).limit(limit)
    with portal.reading() as session:
        return list(session.exec(query).all())
