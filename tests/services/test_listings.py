"""The procurement catalogue's life through the services: listed with the approval, reminded,
renewed, suspended, revoked and archived; on SQLite and PostgreSQL."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from listing_helpers import (
    LISTING_ANSWERS,
    LISTING_MEASURE,
    add_bureau_reviewers,
    approve,
    fill_and_submit,
    list_product,
)
from pypdf import PdfReader
from services_helpers import World
from sqlmodel import col, select

from portal.db.tables import AuditEvent, Decision, Letter, Listing, Notification
from portal.services import corrections, listings, sla
from portal.services.context import Portal
from portal.services.errors import Forbidden, Refused, StaleVersion
from portal.services.letters import rerender_letter
from portal.services.listings import ListingFilter
from portal.services.notifications import note_text


def _listing_of(portal: Portal, app_id: int) -> Listing:
    with portal.reading() as session:
        row = session.exec(select(Listing).where(Listing.application_id == app_id)).first()
        assert row is not None
        return row


def test_approval_lists_the_product_with_its_letter_and_audit(portal: Portal, world: World) -> None:
    app_id = list_product(portal, world)
    listing = _listing_of(portal, app_id)
    with portal.reading() as session:
        letter = session.get(Letter, listing.letter_id)
        assert letter is not None and letter.kind == "approval"
        decision = session.get(Decision, letter.decision_id)
        assert decision is not None and decision.application_id == app_id
        audit = session.exec(
            select(AuditEvent).where(
                AuditEvent.subject_type == "listing", AuditEvent.event == "listing_listed"
            )
        ).all()
    assert listing.doc_number == letter.doc_number and listing.verification_code == letter.verification_code
    assert listing.name == LISTING_ANSWERS["product_name"]
    assert (listing.kind, listing.track, listing.district, listing.status) == (
        "platform",
        "cheng",
        "tianhe",
        "listed",
    )
    # Valid three years (the rule file's `listing.valid_years`), from the day of approval.
    assert listing.listed_on == date(2026, 6, 8) and listing.expires_on == date(2029, 6, 8)
    assert len(audit) == 1 and audit[0].subject_id == str(listing.id)


def test_search_filters_and_archive(portal: Portal, world: World) -> None:
    first = _listing_of(portal, list_product(portal, world)).id
    second = _listing_of(
        portal,
        list_product(
            portal, world, {"product_name": "穗智工厂质检算法", "product_kind": "technology", "track": "zao"}
        ),
    ).id
    found = lambda **kw: [e.listing.id for e in listings.search(portal, ListingFilter(**kw)).entries]  # noqa: E731
    assert found() == [second, first]
    assert found(kind="technology") == [second]
    assert found(track="cheng") == [first]
    assert found(district="haizhu") == []
    assert found(q="质检") == [second]
    assert found(q="91350100m000100y43") == [second, first]  # by USCC, case-insensitive
    assert found(q="100%_") == []  # LIKE wildcards are literal
    page = listings.search(portal, ListingFilter(), page=2, per_page=1)
    assert page.total == 2 and page.pages == 2 and [e.listing.id for e in page.entries] == [first]


def test_reminder_then_expiry_through_the_sla_sweep(portal: Portal, world: World) -> None:
    # Listed in mid-2024, so that the whole three-year term lies inside the working-day calendar.
    portal.today_override = date(2024, 6, 3)
    listing = _listing_of(portal, list_product(portal, world))
    assert listing.expires_on == date(2027, 6, 10)
    portal.today_override = listing.expires_on - timedelta(days=61)
    assert sla.sweep(portal).reminded_listings == []
    portal.today_override = listing.expires_on - timedelta(days=60)
    assert sla.sweep(portal).reminded_listings == [listing.id]
    assert sla.sweep(portal).reminded_listings == []  # once per term
    with portal.reading() as session:
        notes = session.exec(select(Notification).where(Notification.kind == "listing_expiry")).all()
    assert len(notes) == 1 and notes[0].enterprise_id == listing.enterprise_id
    assert notes[0].link == f"/procurement/{listing.id}"
    portal.today_override = listing.expires_on
    assert sla.sweep(portal).expired_listings == []  # valid through its last day
    portal.today_override = listing.expires_on + timedelta(days=1)
    assert sla.sweep(portal).expired_listings == [listing.id]
    assert listings.get_entry(portal, int(listing.id or 0)).listing.status == "expired"
    archive = listings.search(portal, ListingFilter(statuses=listings.ARCHIVE_STATUSES))
    assert [e.listing.id for e in archive.entries] == [listing.id]
    events = [e.event for e in listings.entry_history(portal, int(listing.id or 0))]
    assert events == ["listed", "reminded", "expired"]


def test_renewal_is_prefilled_and_extends_the_same_entry(portal: Portal, world: World) -> None:
    listing = _listing_of(portal, list_product(portal, world))
    owner = world.actors["ent_a"]
    assert listing.expires_on is not None
    portal.today_override = date(2026, 6, 9)  # within the calendar; renewing early extends from expiry
    draft = listings.start_renewal(portal, owner, int(listing.id or 0))
    assert listings.start_renewal(portal, owner, int(listing.id or 0)).id == draft.id  # no second draft
    from portal.services.applications import answer_versions

    prefilled = answer_versions(portal, owner, int(draft.id or 0))[-1].answers
    assert prefilled["product_name"] == LISTING_ANSWERS["product_name"]
    assert prefilled["specifications"] == LISTING_ANSWERS["specifications"]
    fill_and_submit(
        portal, owner, int(draft.id or 0), {**prefilled, "summary": LISTING_ANSWERS["summary"] + "（第二版）"}
    )
    approve(portal, world, int(draft.id or 0))
    renewed = listings.get_entry(portal, int(listing.id or 0)).listing
    # The new term runs on from the old expiry; the entry keeps its id, the reference is the new letter's.
    assert renewed.expires_on == date(2032, 6, 8)
    assert renewed.doc_number != listing.doc_number and renewed.summary.endswith("（第二版）")
    with portal.reading() as session:
        assert len(session.exec(select(Listing)).all()) == 1
    assert [e.event for e in listings.entry_history(portal, int(listing.id or 0))] == [
        "listed",
        "renewal_started",
        "renewed",
    ]


def test_suspend_reinstate_revoke_with_letters(portal: Portal, world: World) -> None:
    listing = _listing_of(portal, list_product(portal, world))
    lid = int(listing.id or 0)
    bureau = world.actors["rev_gzczj"]
    with pytest.raises(Forbidden):
        listings.act_on(portal, world.actors["rev_gzdev"], lid, "suspend", "抽查不合格", listing.version)
    with pytest.raises(Refused):
        listings.act_on(portal, bureau, lid, "suspend", "  ", listing.version)
    with pytest.raises(StaleVersion):
        listings.act_on(portal, bureau, lid, "suspend", "抽查不合格", listing.version - 1)
    suspension = listings.act_on(
        portal, bureau, lid, "suspend", "产品抽查不合格，限期整改。", listing.version
    )
    with pytest.raises(Refused):
        listings.act_on(portal, bureau, lid, "suspend", "再次暂停", listing.version + 1)
    reinstated = listings.act_on(
        portal, bureau, lid, "reinstate", "整改完成，复查合格。", listing.version + 1
    )
    revocation = listings.act_on(portal, bureau, lid, "revoke", "提供虚假专利证明。", listing.version + 2)
    assert (suspension.kind, reinstated.kind, revocation.kind) == (
        "suspension",
        "reinstatement",
        "revocation",
    )
    entry = listings.get_entry(portal, lid)
    assert entry.listing.status == "revoked"
    assert listings.search(portal, ListingFilter()).entries == []
    assert [e.listing.id for e in listings.search(portal, ListingFilter(statuses=("revoked",))).entries] == [
        lid
    ]
    history = listings.entry_history(portal, lid)
    assert [(e.event, e.letter_id) for e in history][-3:] == [
        ("suspended", suspension.id),
        ("reinstated", reinstated.id),
        ("revoked", revocation.id),
    ]
    # A stored letter about an entry re-renders to the same bytes (reasons and subject are stored).
    assert rerender_letter(portal, revocation.decision_id, letter_id=revocation.id).identical
    with portal.reading() as session:
        told = session.exec(
            select(Notification)
            .where(col(Notification.kind) == "listing_update")
            .order_by(col(Notification.id))
        ).all()
    assert len(told) == 3 and "提供虚假专利证明" in note_text(portal, told[-1], "zh")[1]


def test_only_the_owner_renews_and_not_a_revoked_entry(portal: Portal, world: World) -> None:
    listing = _listing_of(portal, list_product(portal, world))
    lid = int(listing.id or 0)
    with pytest.raises(Forbidden):
        listings.start_renewal(portal, world.actors["ent_b"], lid)
    listings.act_on(portal, world.actors["rev_gzczj"], lid, "revoke", "企业申请退出目录。", listing.version)
    with pytest.raises(Refused):
        listings.start_renewal(portal, world.actors["ent_a"], lid)


def test_a_measure_without_listing_enters_no_register(portal: Portal, world: World) -> None:
    from services_helpers import Driver

    add_bureau_reviewers(portal, world)
    Driver(portal, world).to_approved()
    with portal.reading() as session:
        assert session.exec(select(Listing)).all() == []
    assert LISTING_MEASURE in portal.forms


def test_first_set_award_enters_the_award_register_without_its_amount(portal: Portal, world: World) -> None:
    from listing_helpers import award_first_set
    from services_helpers import ELIGIBLE_FACTS

    from portal.services import enterprises

    catalogue_entry = _listing_of(portal, list_product(portal, world))
    # The first-set criteria read product facts the form does not ask: the enterprise's profile has them.
    owner = world.actors["ent_a"]
    product = {
        "on_city_catalogue": True,
        "price_received_ratio": "0.75",
        "self_reliance_rate": "0.85",
        "manufacturer_in_guangzhou": True,
        "mass_produced": True,
    }
    profile = enterprises.save_profile(portal, owner, {**ELIGIBLE_FACTS, "product": product}, 1)
    enterprises.confirm_profile(portal, owner, profile.version)
    award = _listing_of(portal, award_first_set(portal, world))
    assert (award.register_kind, award.status, award.expires_on) == ("awards", "listed", None)
    assert award.amount == Decimal("2400000.00")  # stored: 30% of 8 million, under the 5 million cap
    entry = listings.get_entry(portal, int(award.id or 0))
    assert entry.amount is None  # the rule's listing does not publish it (publish_amount: false)
    register = listings.search(portal, ListingFilter(register_kind="awards"))
    assert [e.listing.id for e in register.entries] == [award.id]
    assert listings.search(portal, ListingFilter(register_kind="awards", year=2025)).entries == []
    # The catalogue entry names the award it also holds, and the award names the catalogue entry.
    held = listings.get_entry(portal, int(catalogue_entry.id or 0)).also_holds
    assert [(h.listing_id, h.register_kind, h.year) for h in held] == [(award.id, "awards", 2026)]
    assert held[0].title.zh.startswith("首台（套）")
    # Awards never expire: the sweep leaves them alone years later.
    portal.today_override = date(2040, 1, 1)
    assert award.id not in listings.sweep_listings(portal).expired


def test_every_listing_field_names_a_field_of_the_measures_form(portal: Portal) -> None:
    for rule in portal.pack.rules:
        if rule.listing is None:
            continue
        form = portal.forms[rule.id]
        assert set(rule.listing.fields.values()) <= set(form.fields), rule.id


def test_a_revocation_during_renewal_is_not_undone_by_the_renewal(portal: Portal, world: World) -> None:
    listing = _listing_of(portal, list_product(portal, world))
    lid = int(listing.id or 0)
    owner = world.actors["ent_a"]
    draft = listings.start_renewal(portal, owner, lid)
    revoke = "提供虚假专利证明。"
    listings.act_on(portal, world.actors["rev_gzczj"], lid, "revoke", revoke, listing.version + 1)
    from portal.services.applications import answer_versions

    answers = answer_versions(portal, owner, int(draft.id or 0))[-1].answers
    fill_and_submit(portal, owner, int(draft.id or 0), answers)
    approve(portal, world, int(draft.id or 0))
    assert listings.get_entry(portal, lid).listing.status == "revoked"
    fresh = listings.entry_of_application(portal, int(draft.id or 0))
    assert fresh.id != lid and fresh.status == "listed"


def test_a_letter_about_an_entry_is_corrected_with_its_subject_and_corrected_reasons(
    portal: Portal, world: World
) -> None:
    """The correction acts on the entry the letter it replaces acted on: it names the same product,
    prints the corrected reasons, and re-renders to its own bytes."""
    listing = _listing_of(portal, list_product(portal, world))
    bureau = world.actors["rev_gzczj"]
    revocation = listings.act_on(
        portal, bureau, int(listing.id or 0), "revoke", "提供虚假专利证明。", listing.version
    )
    starts = corrections.correction_starts(portal, bureau, listing.application_id)
    assert starts[revocation.id or 0] == "提供虚假专利证明。"
    corrected = corrections.correct_letter(
        portal,
        bureau,
        revocation.id or 0,
        reasons="原理由所列证明名称有误。",
        opinion="提供虚假软件著作权登记证明。",
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(corrected.pdf)).pages).replace(
        " ", ""
    )
    assert "提供虚假软件著作权登记证明。" in text and "提供虚假专利证明" not in text
    assert listings.subject_of(listing).replace(" ", "") in text
    assert rerender_letter(portal, corrected.decision_id, letter_id=corrected.id).identical
