"""Document numbers take their prefix (发文机关代字) from the pack's units.yaml, never from code."""

from dataclasses import replace
from datetime import timedelta

from services_helpers import Driver, World, counts
from sqlmodel import select

from portal.db.tables import Letter
from portal.services import sla
from portal.services.context import Portal


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
    unnamed = _with_gzdev(portal, abbr="")
    case = Driver(unnamed, world).to_public_notice()
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
