"""Document numbers take their prefix (发文机关代字) from the pack's units.yaml, never from code."""

from dataclasses import replace
from datetime import timedelta

import pytest
from services_helpers import Driver, World, counts
from sqlmodel import select

from portal.db.tables import Letter
from portal.services import sla
from portal.services.context import Portal
from portal.services.errors import BadStoredState


def _with_gzdev(portal: Portal, **unit: str) -> Portal:
    units = {**portal.pack.units, "gzdev": {**portal.pack.units["gzdev"], **unit}}
    return replace(portal, pack=replace(portal.pack, units=units))


def test_the_prefix_is_the_lead_units_abbr(portal: Portal, world: World) -> None:
    renamed = _with_gzdev(portal, abbr="穗发展改革")
    case = Driver(renamed, world).to_approved()
    assert case.state == "approved"
    with portal.reading() as session:
        [letter] = session.exec(select(Letter)).all()
    assert letter.doc_number == "穗发展改革〔2026〕1号"


def test_a_unit_without_abbr_issues_no_letter(portal: Portal, world: World) -> None:
    case = Driver(portal, world).to_public_notice()  # opened, and numbered, while the unit had its abbr
    unnamed = _with_gzdev(portal, abbr="")
    before = counts(unnamed, case.app_id)
    start = unnamed.today()
    unnamed.today_override = start + timedelta(days=7)
    # Closing the notice would approve the case and number its letter: it is refused whole.
    report = sla.sweep(unnamed)
    assert report.advanced == []
    [(broken_id, problem)] = report.broken
    assert broken_id == case.app_id and "'gzdev' has no `abbr`" in problem
    assert counts(unnamed, case.app_id) == before
    with portal.reading() as session:
        assert session.exec(select(Letter)).all() == []


def test_a_unit_without_abbr_opens_no_notice(portal: Portal, world: World) -> None:
    """A notice's number is official too (公示编号): the passing score that would open the notice
    is refused whole, naming the unit, rather than opening it under a made-up number."""
    unnamed = _with_gzdev(portal, abbr="")
    case = Driver(unnamed, world).to_expert_review()
    with pytest.raises(BadStoredState, match="'gzdev' has no `abbr`"):
        case.panel()
    assert case.state == "expert_review"  # the last score, and the step it would fire, rolled back
