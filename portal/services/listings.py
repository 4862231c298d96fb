"""The public registers as people and the procurement platform use them, and the life of an entry.

Reading is public: anyone may search the catalogue, open an entry, read its history and
export it. Changing an entry is the lead unit's (suspend, reinstate, revoke, each with
reasons and a letter to the enterprise) or the sweep's (remind before expiry, expire). The
enterprise renews by starting a new application prefilled from the entry; its approval
extends the entry (see `listing_register`).
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import cast

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from portal.db.tables import (
    Application,
    ApplicationAnswers,
    Decision,
    Enterprise,
    Letter,
    Listing,
    ListingEvent,
)
from portal.documents.model import LetterKind
from portal.rules.text import Text
from portal.services.access import is_lead_unit_staff
from portal.services.applications import draft_in, draftable_rule
from portal.services.cases import workflow_of
from portal.services.context import Portal
from portal.services.decisions import issue_letter
from portal.services.errors import BadStoredState, Forbidden, NotFound, Refused, StaleVersion
from portal.services.listing_register import (
    EXPIRED,
    LISTED,
    REVOKED,
    SUSPENDED,
    record_event,
    submitted_answers,
)
from portal.services.notifications import notify
from portal.workflows import Actor
from portal.workflows.context import SYSTEM_ACTOR

CATALOGUE, AWARDS = "catalogue", "awards"
CURRENT_STATUSES = (LISTED, SUSPENDED)
ARCHIVE_STATUSES = (EXPIRED, REVOKED)
STATUSES = (LISTED, SUSPENDED, EXPIRED, REVOKED)
MAX_PER_PAGE = 100
# What each bureau action does: the statuses it starts from, the status it leaves, its letter.
_ACTIONS: dict[str, tuple[tuple[str, ...], str, LetterKind]] = {
    "suspend": ((LISTED,), SUSPENDED, "suspension"),
    "reinstate": ((SUSPENDED,), LISTED, "reinstatement"),
    "revoke": ((LISTED, SUSPENDED), REVOKED, "revocation"),
}
_EVENT_OF = {"suspend": "suspended", "reinstate": "reinstated", "revoke": "revoked"}


@dataclass(frozen=True)
class ListingFilter:
    """What a reader asks of a register; empty fields do not filter."""

    register_kind: str = CATALOGUE
    statuses: tuple[str, ...] = CURRENT_STATUSES
    q: str | None = None
    kind: str | None = None
    track: str | None = None
    district: str | None = None
    year: int | None = None


@dataclass(frozen=True)
class Held:
    """Another public record of the same product: a 首台套 award beside a catalogue entry, say."""

    listing_id: int
    register_kind: str
    title: Text
    year: int


@dataclass(frozen=True)
class Entry:
    """One entry as the public sees it."""

    listing: Listing
    enterprise_name: str
    enterprise_uscc: str
    measure_title: Text
    lead_unit: str
    publish_amount: bool
    also_holds: list[Held] = field(default_factory=list)

    @property
    def amount(self) -> Decimal | None:
        """The granted amount, only where the rule's listing publishes it."""
        return self.listing.amount if self.publish_amount else None


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Vocabulary:
    """The labels of the registers' coded columns, read from the listing measures' forms."""

    kinds: dict[str, Text]
    tracks: dict[str, Text]
    titles: dict[str, Text]
    # The pack's districts (pack.yaml `jurisdictions`), as every page labels them.
    districts: dict[str, Text]


def vocabulary(portal: Portal) -> Vocabulary:
    """Kind and track labels from the forms the listing measures name, plus every measure title."""
    kinds: dict[str, Text] = {}
    tracks: dict[str, Text] = {}
    titles: dict[str, Text] = {}
    for rule in portal.pack.rules:
        if rule.listing is None:
            continue
        titles[rule.id] = rule.title
        form = portal.forms.get(rule.id)
        if form is None or rule.listing.register != CATALOGUE:
            continue
        for column, target in (("kind", kinds), ("track", tracks)):
            name = rule.listing.fields.get(column)
            spec = form.fields.get(name) if name is not None else None
            if spec is not None:
                target.update({code: Text(label.zh, label.en) for code, label in spec.options.items()})
    districts = {code: Text(text.zh, text.en) for code, text in portal.city.jurisdictions.labels.items()}
    return Vocabulary(kinds, tracks, titles, districts)


def _publishes_amount(portal: Portal, measure_id: str) -> bool:
    versions = portal.pack.versions(measure_id)
    return any(rule.listing is not None and rule.listing.publish_amount for rule in versions)


def _normalised(name: str) -> str:
    return "".join(name.split()).casefold()


def _entries(
    session: Session, portal: Portal, rows: list[tuple[Listing, Enterprise, Application]]
) -> list[Entry]:
    """Entries with their titles and the other public records of the same products."""
    enterprise_ids = {listing.enterprise_id for listing, _, _ in rows}
    others: list[Listing] = []
    if enterprise_ids:
        others = list(
            session.exec(
                select(Listing)
                .where(col(Listing.enterprise_id).in_(sorted(enterprise_ids)))
                .where(col(Listing.status) != REVOKED)
            ).all()
        )
    titles = vocabulary(portal).titles
    result = []
    for listing, enterprise, application in rows:
        held = [
            Held(
                cast(int, other.id),
                other.register_kind,
                titles.get(other.measure_id, Text(other.measure_id, other.measure_id)),
                other.listed_on.year,
            )
            for other in others
            if other.id != listing.id
            and other.enterprise_id == listing.enterprise_id
            and _normalised(other.name) == _normalised(listing.name)
        ]
        result.append(
            Entry(
                listing=listing,
                enterprise_name=enterprise.name,
                enterprise_uscc=enterprise.uscc,
                measure_title=titles.get(listing.measure_id, Text("", "")),
                lead_unit=application.lead_unit,
                publish_amount=_publishes_amount(portal, listing.measure_id),
                also_holds=sorted(held, key=lambda h: (h.year, h.listing_id)),
            )
        )
    return result


def search(portal: Portal, wanted: ListingFilter, *, page: int = 1, per_page: int = 20) -> Page:
    """One page of a register, newest entries first; the same answer for the page, the export and the API."""
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    page = max(page, 1)
    query = (
        select(Listing, Enterprise, Application)
        .join(Enterprise, col(Enterprise.id) == Listing.enterprise_id)
        .join(Application, col(Application.id) == Listing.application_id)
        .where(col(Listing.register_kind) == wanted.register_kind)
        .where(col(Listing.status).in_(wanted.statuses))
    )
    if wanted.kind:
        query = query.where(col(Listing.kind) == wanted.kind)
    if wanted.track:
        query = query.where(col(Listing.track) == wanted.track)
    if wanted.district:
        query = query.where(col(Listing.district) == wanted.district)
    if wanted.year is not None:
        query = query.where(func.extract("year", col(Listing.listed_on)) == wanted.year)
    if wanted.q and wanted.q.strip():
        needle = wanted.q.strip().casefold()
        query = query.where(
            or_(
                *(
                    func.lower(column).contains(needle, autoescape=True)
                    for column in (
                        col(Listing.name),
                        col(Listing.summary),
                        col(Listing.specs),
                        col(Listing.doc_number),
                        col(Enterprise.name),
                        col(Enterprise.uscc),
                    )
                )
            )
        )
    with portal.reading() as session:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        rows = session.exec(
            query.order_by(col(Listing.listed_on).desc(), col(Listing.id).desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        entries = _entries(session, portal, [tuple(row) for row in rows])  # type: ignore[misc]
        return Page(entries, int(total), page, per_page)


def get_entry(portal: Portal, listing_id: int) -> Entry:
    """One entry of any register and status (the archive keeps every entry); NotFound otherwise."""
    with portal.reading() as session:
        row = session.exec(
            select(Listing, Enterprise, Application)
            .join(Enterprise, col(Enterprise.id) == Listing.enterprise_id)
            .join(Application, col(Application.id) == Listing.application_id)
            .where(Listing.id == listing_id)
        ).first()
        if row is None:
            raise NotFound("listing", listing_id)
        return _entries(session, portal, [tuple(row)])[0]  # type: ignore[list-item]


def entry_of_application(portal: Portal, application_id: int) -> Listing:
    """The register entry an approved application created, or else the one it renewed; NotFound if none."""
    with portal.reading() as session:
        row = session.exec(select(Listing).where(col(Listing.application_id) == application_id)).first()
        if row is None:
            row = session.exec(
                select(Listing)
                .join(ListingEvent, col(ListingEvent.listing_id) == Listing.id)
                .where(ListingEvent.application_id == application_id, ListingEvent.event == "renewed")
            ).first()
        if row is None:
            raise NotFound("listing", f"of application {application_id}")
        return row


def entry_history(portal: Portal, listing_id: int) -> list[ListingEvent]:
    """The entry's life, oldest first: listed, reminded, renewed, suspended, reinstated, revoked, expired."""
    with portal.reading() as session:
        if session.get(Listing, listing_id) is None:
            raise NotFound("listing", listing_id)
        return list(
            session.exec(
                select(ListingEvent)
                .where(ListingEvent.listing_id == listing_id)
                .order_by(col(ListingEvent.id))
            ).all()
        )


def history_letters(portal: Portal, listing_id: int) -> dict[int, str]:
    """The verification code of each letter the entry's history names, by letter id (for /verify links)."""
    with portal.reading() as session:
        rows = session.exec(
            select(Letter.id, Letter.verification_code)
            .join(ListingEvent, col(ListingEvent.letter_id) == Letter.id)
            .where(ListingEvent.listing_id == listing_id)
        ).all()
        return {int(letter_id or 0): code for letter_id, code in rows}


def may_manage(actor: Actor | None, entry: Entry) -> bool:
    """The lead unit's reviewers and admins suspend, reinstate and revoke entries."""
    if actor is None:
        return False
    return actor.role == "admin" or (actor.role == "reviewer" and actor.bureau == entry.lead_unit)


def subject_of(listing: Listing) -> str:
    """What a letter about the entry names: the product, in quotation marks (the same in zh and en)."""
    return f"“{listing.name}”"


def act_on(
    portal: Portal, actor: Actor, listing_id: int, action: str, reasons: str, expected_version: int
) -> Letter:
    """Suspend, reinstate or revoke an entry with reasons; the enterprise gets a letter. Returns it."""
    if action not in _ACTIONS:
        raise NotFound("action", action)
    if not reasons.strip():
        raise Refused("comment_required", "须说明理由", "state the reasons")
    from_statuses, to_status, letter_kind = _ACTIONS[action]
    with portal.transaction() as session:
        listing = session.get(Listing, listing_id)
        if listing is None:
            raise NotFound("listing", listing_id)
        application = session.get(Application, listing.application_id)
        if application is None:
            raise BadStoredState("listing", listing_id, "its application row is missing")
        if not is_lead_unit_staff(actor, application):
            raise Forbidden("仅牵头单位可管理目录条目", "only the lead unit manages catalogue entries")
        if listing.version != expected_version:
            raise StaleVersion("listing", listing_id, expected_version, listing.version)
        if listing.status not in from_statuses:
            raise Refused(
                "wrong_status",
                "该条目当前状态不允许此操作",
                f"an entry that is {listing.status} cannot be changed this way",
            )
        current = session.get(Letter, listing.letter_id)
        decision = session.get(Decision, current.decision_id) if current is not None else None
        if current is None or decision is None:
            raise BadStoredState("listing", listing_id, "its approval letter or decision is missing")
        letter_application = session.get(Application, decision.application_id)
        assert letter_application is not None  # the decision's foreign key
        letter = issue_letter(
            session,
            portal,
            application=letter_application,
            decision=decision,
            kind=letter_kind,
            issued_by=actor.user_id,
            reasons=reasons.strip(),
            subject=subject_of(listing),
        )
        listing.status = to_status
        if to_status == REVOKED:
            # A renewal under way no longer extends this entry; approved, it would be a new entry.
            listing.renewal_application_id = None
        listing.version += 1
        listing.updated_at = portal.now()
        session.add(listing)
        session.flush()
        record_event(
            session, portal, listing, _EVENT_OF[action], actor, reasons=reasons.strip(), letter=letter
        )
        notify(
            session,
            kind="listing_update",
            enterprise_id=listing.enterprise_id,
            link=f"/procurement/{listing.id}",
            message="note.listing_status",
            params={
                "name": listing.name,
                "action": action,
                "doc_number": letter.doc_number,
                "reasons": reasons.strip(),
            },
        )
        return letter


def renewal_open(session: Session, portal: Portal, listing: Listing) -> Application | None:
    """The entry's renewal application while it is still undecided, else None."""
    if listing.renewal_application_id is None:
        return None
    application = session.get(Application, listing.renewal_application_id)
    if application is None:
        return None
    _, state = workflow_of(portal, application)
    return None if state.kind == "terminal" else application


def may_renew(portal: Portal, actor: Actor | None, entry: Entry) -> bool:
    """The owning enterprise may renew a catalogue entry that is listed or has expired."""
    listing = entry.listing
    return (
        actor is not None
        and actor.role == "enterprise"
        and actor.enterprise_id == listing.enterprise_id
        and listing.expires_on is not None
        and listing.status in (LISTED, EXPIRED)
    )


def start_renewal(portal: Portal, actor: Actor, listing_id: int) -> Application:
    """A new application of the entry's measure, prefilled from the answers the entry was approved on.

    An open renewal is returned as it is, so a double click never makes two drafts.
    """
    with portal.transaction() as session:
        listing = session.get(Listing, listing_id)
        if listing is None:
            raise NotFound("listing", listing_id)
        if actor.role != "enterprise" or actor.enterprise_id != listing.enterprise_id:
            raise Forbidden("仅该条目的企业可以申请续期", "only the listed enterprise may renew its entry")
        if listing.expires_on is None or listing.status not in (LISTED, EXPIRED):
            raise Refused(
                "wrong_status", "该条目当前不能续期", f"an entry that is {listing.status} cannot be renewed"
            )
        existing = renewal_open(session, portal, listing)
        if existing is not None:
            return existing
        rule = draftable_rule(portal, listing.measure_id)
        source = session.get(Application, listing.application_id)
        assert source is not None  # the listing's foreign key
        # The latest approval (the original or the last renewal) is what the entry now shows.
        latest = session.exec(
            select(Decision.application_id)
            .join(Letter, col(Letter.decision_id) == Decision.id)
            .where(Letter.id == listing.letter_id)
        ).first()
        answers = submitted_answers(session, latest if latest is not None else cast(int, source.id))
        application = draft_in(
            session, portal, actor, rule, listing.enterprise_id, {"renews_listing": listing.id}
        )
        form = portal.forms.get(rule.id)
        kept = {k: v for k, v in answers.items() if form is None or k in form.fields}
        session.add(
            ApplicationAnswers(
                application_id=cast(int, application.id),
                version=1,
                answers=kept,
                created_by=actor.user_id,
                created_at=portal.now(),
            )
        )
        application.answers_version = 1
        session.add(application)
        listing.renewal_application_id = application.id
        listing.version += 1
        listing.updated_at = portal.now()
        session.add(listing)
        session.flush()
        record_event(session, portal, listing, "renewal_started", actor, application_id=application.id)
        return application


@dataclass
class ListingSweep:
    """What one sweep of the registers did."""

    reminded: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)


def sweep_listings(portal: Portal) -> ListingSweep:
    """Remind enterprises of entries about to expire, and expire the ones past their date.

    Each entry is its own transaction guarded by its version; a second sweep the same day
    finds nothing left to do (`reminded_for` records the expiry date already reminded of).
    """
    today = portal.today()
    report = ListingSweep()
    with portal.reading() as session:
        due = session.exec(
            select(Listing)
            .where(col(Listing.status).in_(CURRENT_STATUSES))
            .where(col(Listing.expires_on).is_not(None))
            .order_by(col(Listing.id))
        ).all()
    for row in due:
        assert row.expires_on is not None
        # The reminder period in force today (the newest version if the measure has lapsed).
        versions = portal.pack.versions(row.measure_id)
        rule = portal.pack.select(row.measure_id, today) or (versions[-1] if versions else None)
        remind_days = rule.listing.remind_days if rule is not None and rule.listing is not None else 0
        if row.expires_on < today:
            if _change(portal, row, "expired"):
                report.expired.append(cast(int, row.id))
        elif (
            row.status == LISTED
            and remind_days
            and row.reminded_for != row.expires_on
            and row.expires_on - timedelta(days=remind_days) <= today
            and _change(portal, row, "reminded")
        ):
            report.reminded.append(cast(int, row.id))
    return report


def _change(portal: Portal, seen: Listing, event: str) -> bool:
    """Apply one sweep step if the entry is still as read; False when someone changed it first."""
    with portal.transaction() as session:
        listing = session.get(Listing, seen.id)
        if listing is None or listing.version != seen.version:
            return False
        if event == "expired":
            listing.status = EXPIRED
        else:
            listing.reminded_for = listing.expires_on
            notify(
                session,
                kind="listing_expiry",
                enterprise_id=listing.enterprise_id,
                link=f"/procurement/{listing.id}",
                dedupe_key=f"listing-expiry:{listing.id}:{listing.expires_on}",
                message="note.listing_expiry",
                params={
                    "name": listing.name,
                    "measure": listing.measure_id,
                    "date": str(listing.expires_on),
                },
            )
        listing.version += 1
        listing.updated_at = portal.now()
        session.add(listing)
        session.flush()
        record_event(session, portal, listing, event, SYSTEM_ACTOR)
        return True
