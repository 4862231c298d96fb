"""The policy catalogue (政策库): every measure in force, what it gives, how it is obtained, and
for a signed-in enterprise how its own profile fares against each.

The business rules live here, not in the pages: which measures are shown, what a measure gives
before anything is known about the applicant (its fixed amounts and the ceilings of its formulas,
from the engine's partial-knowledge bounds), which documents its form asks for, and on which facts
an enterprise's badge is judged. A measure judged on an entity the profile does not hold (a loan,
a person) is judged on no facts, so its card lists what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from sqlmodel import col, select

from portal.db.tables import Application, EnterpriseProfile
from portal.forms.model import AttachmentSlot
from portal.rules import Rule
from portal.rules.text import Text
from portal.services import enterprises
from portal.services.case_files import enterprises_by_id
from portal.services.channels import ChannelView, catalogue_channels
from portal.services.context import Portal
from portal.workflows import Actor


@dataclass(frozen=True)
class Offer:
    """One thing a measure gives: `amount` of `kind` (money, ratio, int), a ceiling when `up_to`."""

    label: Text | None
    amount: Decimal
    kind: str
    up_to: bool


@dataclass(frozen=True)
class Entry:
    """A measure as the catalogue shows it to anyone: the rule in force and what surrounds it."""

    rule: Rule
    channel: ChannelView
    offers: tuple[Offer, ...]
    documents: tuple[AttachmentSlot, ...]
    unit: Text | None


@dataclass(frozen=True)
class OpenCase:
    """One of the enterprise's own applications still under way, shown beside "apply" so that a
    second click does not start a duplicate unnoticed."""

    id: int
    measure_id: str
    workflow: str
    state: str


@dataclass(frozen=True)
class Catalogue:
    """The check of every measure in force, how each is obtained, and the profile it read."""

    check: dict[str, object]
    channels: dict[str, ChannelView]
    profile: EnterpriseProfile | None
    open_cases: dict[str, list[OpenCase]]


def _in_force(portal: Portal) -> list[Rule]:
    today = portal.today()
    return [r for m in portal.pack.measure_ids() if (r := portal.pack.select(m, today)) is not None]


def offers_of(portal: Portal, rule: Rule) -> tuple[Offer, ...]:
    """What the measure gives when nothing is known yet: fixed amounts, and formulas' ceilings.

    A benefit with no ceiling (it grows with the applicant's figures) is left out rather than
    guessed; its label still appears in the measure's criteria and form.
    """
    entities: dict[str, dict[str, object]] = {e: {} for e in portal.pack.facts.entities}
    result = portal.pack.evaluate(rule.id, entities, portal.today())
    offers = []
    for name, amount in result.potential_benefit.items():
        spec = rule.benefit[name]
        offers.append(Offer(spec.label, amount, spec.type, name in result.potential_up_to))
    return tuple(offers)


def _entry(portal: Portal, rule: Rule, channels: dict[str, ChannelView]) -> Entry:
    form = portal.forms.get(rule.id)
    documents = tuple(form.attachments.values()) if form is not None and rule.applied_through_form else ()
    names = portal.pack.units.get(rule.lead_unit or "")
    unit = Text(names.get("zh", ""), names.get("en", "")) if names else None
    return Entry(rule, channels[rule.id], offers_of(portal, rule), documents, unit)


def public_catalogue(portal: Portal) -> list[Entry]:
    """Every measure in force today, in the pack's order; nothing here depends on who asks."""
    rules = _in_force(portal)
    channels = catalogue_channels(portal, [r.id for r in rules])
    return [_entry(portal, rule, channels) for rule in rules]


def measure_entry(portal: Portal, measure_id: str) -> Entry | None:
    """One measure in force today, or None (unknown, or not in force)."""
    rule = portal.pack.select(measure_id, portal.today()) if measure_id in portal.pack.measure_ids() else None
    if rule is None:
        return None
    return _entry(portal, rule, catalogue_channels(portal, [rule.id]))


def catalogue_for(portal: Portal, actor: Actor, lang: str, measures: list[str] | None = None) -> Catalogue:
    """The signed-in enterprise's badges on today's date, in `lang`: all measures in force, or `measures`."""
    assert actor.enterprise_id is not None
    profile = enterprises.latest_profile(portal, actor)
    enterprise = enterprises_by_id(portal, {actor.enterprise_id})[actor.enterprise_id]
    facts = enterprises.profile_facts(portal.city, profile, enterprise)
    wanted = [r.id for r in _in_force(portal) if measures is None or r.id in measures]
    entities = {portal.pack.versions(m)[-1].applies_to for m in wanted}
    check = portal.pack.check({**{e: {} for e in entities}, **facts}, portal.today(), wanted, lang)
    return Catalogue(check, catalogue_channels(portal, wanted), profile, _open_cases(portal, actor, wanted))


def _open_cases(portal: Portal, actor: Actor, measures: list[str]) -> dict[str, list[OpenCase]]:
    """The enterprise's applications for `measures` not yet in a final stage, by measure, oldest first."""
    with portal.reading() as session:
        rows = session.exec(
            select(Application.id, Application.measure_id, Application.workflow, Application.state)
            .where(col(Application.enterprise_id) == actor.enterprise_id)
            .where(col(Application.measure_id).in_(measures))
            .order_by(col(Application.id))
        ).all()
    found: dict[str, list[OpenCase]] = {}
    for case_id, measure_id, workflow, state in rows:
        if not portal.workflows[workflow].state(state).final:
            found.setdefault(measure_id, []).append(OpenCase(cast(int, case_id), measure_id, workflow, state))
    return found
