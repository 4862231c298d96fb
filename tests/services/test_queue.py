"""The queue's keyset pages on SQLite and PostgreSQL: every case exactly once, in order, ties included."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from services_helpers import Driver, World

from portal.db.tables import Application, Enterprise
from portal.services.context import Portal
from portal.services.queue import SORT_KEYS, QueueQuery, SortKey, due_key, queue_all, queue_page, stage_order
from portal.workflows import Actor

MEASURE = "subsidy.ai_scenario_demo"
STATES = ("submitted", "district_review", "bureau_review")


def seed(portal: Portal, world: World, count: int = 23) -> None:
    """`count` tianhe cases with few distinct deadlines, amounts and stages (many ties), some empty."""
    rule = portal.pack.versions(MEASURE)[-1]
    base = dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)
    with portal.transaction() as session:
        for n in range(count):
            session.add(
                Application(
                    enterprise_id=world.enterprise_ids["a" if n % 5 else "b"],
                    measure_id=MEASURE,
                    rule_version=rule.version,
                    workflow=rule.workflow or "",
                    state=STATES[n % 3],
                    lead_unit=rule.lead_unit or "",
                    district="tianhe" if n % 5 else "haizhu",
                    due_on=None if n % 7 == 0 else dt.date(2026, 6, 1 + n % 3),
                    granted_amount=None if n % 4 == 0 else Decimal(100 * (n % 2) + 50),
                    submitted_at=base + dt.timedelta(hours=n % 4),
                )
            )


def key(portal: Portal, sort: SortKey, application: Application) -> object:
    return {
        "due": application.due_on,
        "submitted": application.submitted_at,
        "amount": application.granted_amount,
        "stage": stage_order(portal)[application.state],
    }[sort]


def expected(portal: Portal, cases: list[Application], sort: SortKey, descending: bool) -> list[int]:
    present = [c for c in cases if key(portal, sort, c) is not None]
    empty = [c for c in cases if key(portal, sort, c) is None]
    present.sort(key=lambda c: (key(portal, sort, c), c.id), reverse=descending)
    empty.sort(key=lambda c: c.id or 0, reverse=descending)
    return [c.id or 0 for c in present + empty]


@pytest.mark.parametrize("descending", [False, True])
def test_keyset_pages_hold_every_case_once_in_order(portal: Portal, world: World, descending: bool) -> None:
    seed(portal, world)
    reviewer = world.actors["rev_tianhe"]
    for sort in SORT_KEYS:
        query = QueueQuery(sort=sort, descending=descending)
        everything = [a for a, _ in queue_all(portal, reviewer, query)]
        assert {a.district for a in everything} == {"tianhe"}
        walked: list[int] = []
        after = ""
        while True:
            page = queue_page(
                portal, reviewer, QueueQuery(sort=sort, descending=descending, after=after), size=4
            )
            walked += [a.id or 0 for a, _ in page.rows]
            if page.next_cursor is None:
                break
            after = page.next_cursor
        assert walked == expected(portal, everything, sort, descending) == [a.id for a in everything]
        assert len(walked) == len(set(walked)) == sum(1 for n in range(23) if n % 5)


def test_search_filters_and_scope(portal: Portal, world: World) -> None:
    seed(portal, world)
    tianhe, haizhu = world.actors["rev_tianhe"], world.actors["rev_haizhu"]
    with portal.reading() as session:
        enterprise = session.get(Enterprise, world.enterprise_ids["a"])
        assert enterprise is not None
    mine = [a.id for a, _ in queue_all(portal, tianhe, QueueQuery())]
    assert [a.id for a, _ in queue_all(portal, tianhe, QueueQuery(q=enterprise.name[2:5]))] == mine
    assert [a.id for a, _ in queue_all(portal, tianhe, QueueQuery(q=enterprise.uscc[:8].lower()))] == mine
    assert [a.id for a, _ in queue_all(portal, tianhe, QueueQuery(q=f"#{mine[3]}"))] == [mine[3]]
    assert queue_all(portal, tianhe, QueueQuery(q="%")) == []  # a wildcard is a character, not "anything"
    theirs = [a.id for a, _ in queue_all(portal, haizhu, QueueQuery())]
    assert theirs and not set(theirs) & set(mine)
    assert queue_all(portal, haizhu, QueueQuery(q=f"#{mine[0]}")) == []  # another district's case: nothing
    staged = queue_all(portal, tianhe, QueueQuery(state="submitted"))
    assert staged and {a.state for a, _ in staged} == {"submitted"}
    assert queue_page(portal, tianhe, QueueQuery(after="not-a-cursor")).rows[0][0].id == mine[0]


def _due_between(portal: Portal, world: World, day_before: dt.date, day_after: dt.date) -> tuple[int, int]:
    """Two cases at district review whose stored deadlines are `day_before` and `day_after`."""
    others = [Driver(portal, world).to_district_review() for _ in range(2)]
    with portal.transaction() as session:
        for driver, day in zip(others, (day_before, day_after), strict=True):
            row = session.get(Application, driver.app_id)
            assert row is not None
            row.due_on = day
    return others[0].app_id, others[1].app_id


def _due_order(portal: Portal, reviewer: Actor, ours: set[int], descending: bool) -> list[int]:
    query = QueueQuery(sort="due", descending=descending)
    return [a.id or 0 for a, _ in queue_all(portal, reviewer, query) if a.id in ours]


def test_a_case_waiting_for_an_amendment_sorts_by_its_reply_by_day(portal: Portal, world: World) -> None:
    """Returned on Tue 8 Dec 2026, the case keeps its paused review deadline (days away) but is due
    from the enterprise by its reply-by day (15 working days on): it sorts by the latter, as its
    row shows it, between a case due the day before and one due the day after, on every page."""
    portal.today_override = dt.date(2026, 12, 8)
    returned = Driver(portal, world).to_returned()
    reviewer = world.actors[returned.district_reviewer]
    with portal.reading() as session:
        waiting = session.get(Application, returned.app_id)
        assert waiting is not None and waiting.due_on is not None
        assert waiting.due_on < dt.date(2026, 12, 28)  # the reply-by day is Tue 29 Dec
    before, after = _due_between(portal, world, dt.date(2026, 12, 28), dt.date(2026, 12, 30))
    ours = {returned.app_id, before, after}
    for descending in (False, True):
        order = _due_order(portal, reviewer, ours, descending)
        assert order == ([after, returned.app_id, before] if descending else [before, returned.app_id, after])
        walked: list[int] = []
        cursor = ""
        while True:
            page = queue_page(
                portal, reviewer, QueueQuery(sort="due", descending=descending, after=cursor), 1
            )
            walked += [a.id or 0 for a, _ in page.rows]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert [i for i in walked if i in ours] == order and len(walked) == len(set(walked))


def test_a_case_in_public_notice_sorts_by_the_day_its_notice_closes(portal: Portal, world: World) -> None:
    """A notice has no stage deadline; its row shows the day the timer closes it (entered Tue
    8 Dec 2026, 7 calendar days: Tue 15 Dec), and it sorts by that day, not among the rows with
    no day at all."""
    portal.today_override = dt.date(2026, 12, 8)
    notice = Driver(portal, world).to_public_notice()
    reviewer = world.actors[notice.district_reviewer]
    with portal.reading() as session:
        shown = session.get(Application, notice.app_id)
        assert shown is not None and shown.due_on is None
        assert due_key(portal, shown) == dt.date(2026, 12, 15)
    before, after = _due_between(portal, world, dt.date(2026, 12, 14), dt.date(2026, 12, 16))
    ours = {notice.app_id, before, after}
    for descending in (False, True):
        order = _due_order(portal, reviewer, ours, descending)
        assert order == ([after, notice.app_id, before] if descending else [before, notice.app_id, after])
