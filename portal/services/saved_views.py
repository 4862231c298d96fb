"""A reviewer's saved queue views: named `/review` query strings, each the reviewer's own.

A view is stored as the canonical query string the queue page builds, so opening it is a
redirect to `/review?<query>` and its own URL (`/review/views/{id}`) can be bookmarked.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from portal.db.tables import SavedView
from portal.services.context import Portal
from portal.services.errors import FieldProblem, NotFound, ValidationFailed
from portal.workflows import Actor

MAX_NAME = 60
MAX_QUERY = 1000
MAX_VIEWS = 50


def list_views(portal: Portal, actor: Actor) -> list[SavedView]:
    """The actor's views, by name."""
    with portal.reading() as session:
        query = select(SavedView).where(SavedView.user_id == actor.user_id).order_by(col(SavedView.name))
        return list(session.exec(query).all())


def save_view(portal: Portal, actor: Actor, name: str, query: str) -> SavedView:
    """Save `query` under `name`; a field error for an empty, too long or already used name."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise ValidationFailed([FieldProblem("name", f"1 to {MAX_NAME} characters", "length")])
    if len(query) > MAX_QUERY:
        raise ValidationFailed([FieldProblem("name", "these filters are too long to save", "too_long")])
    if len(list_views(portal, actor)) >= MAX_VIEWS:
        raise ValidationFailed([FieldProblem("name", f"at most {MAX_VIEWS} views", "too_many")])
    try:
        with portal.transaction() as session:
            view = SavedView(user_id=actor.user_id, name=name, query=query, created_at=portal.now())
            session.add(view)
            session.flush()
            session.refresh(view)
            return view
    except IntegrityError:
        raise ValidationFailed(
            [FieldProblem("name", "you already have a view of that name", "taken")]
        ) from None


def get_view(portal: Portal, actor: Actor, view_id: int) -> SavedView:
    """One of the actor's views; NotFound for another's."""
    with portal.reading() as session:
        view = session.get(SavedView, view_id)
        if view is None or view.user_id != actor.user_id:
            raise NotFound("view", view_id)
        return view


def delete_view(portal: Portal, actor: Actor, view_id: int) -> None:
    """Delete one of the actor's views; NotFound for another's."""
    with portal.transaction() as session:
        view = session.get(SavedView, view_id)
        if view is None or view.user_id != actor.user_id:
            raise NotFound("view", view_id)
        session.delete(view)
