"""What an enterprise's own catalogue says: every measure in force, judged on its profile.

The business rule (which measures are shown, and on which facts each is judged) lives here, not
in the page: a measure judged on an entity the profile does not hold (a loan, a person) is
judged on no facts, so its card lists what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.db.tables import EnterpriseProfile
from portal.services import enterprises
from portal.services.case_files import enterprises_by_id
from portal.services.channels import ChannelView, catalogue_channels
from portal.services.context import Portal
from portal.workflows import Actor


@dataclass(frozen=True)
class Catalogue:
    """The check of every measure in force, how each is obtained, and the profile it read."""

    check: dict[str, object]
    channels: dict[str, ChannelView]
    profile: EnterpriseProfile | None


def catalogue_for(portal: Portal, actor: Actor, lang: str) -> Catalogue:
    """The signed-in enterprise's catalogue on today's date, in `lang`."""
    assert actor.enterprise_id is not None
    profile = enterprises.latest_profile(portal, actor)
    enterprise = enterprises_by_id(portal, {actor.enterprise_id})[actor.enterprise_id]
    facts = enterprises.profile_facts(portal.city, profile, enterprise)
    today = portal.today()
    measures = [m for m in portal.pack.measure_ids() if portal.pack.select(m, today) is not None]
    entities = {portal.pack.versions(m)[-1].applies_to for m in measures}
    check = portal.pack.check({**{e: {} for e in entities}, **facts}, today, measures, lang)
    return Catalogue(check, catalogue_channels(portal, measures), profile)
