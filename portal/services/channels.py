"""How each measure is obtained, as the catalogue shows it: apply here, claim in the tax return,
ask a partner bank, or use it where it applies.

The channel is the rule file's (`channel:` and `claim:`); this module adds what only the
database knows (the partner banks) and decides the one thing a card may offer: an application,
and only when the measure is applied for through a form that exists.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from portal.db.tables import Bank
from portal.rules import Rule
from portal.rules.model import Claim
from portal.services import banks
from portal.services.context import Portal


@dataclass(frozen=True)
class ChannelView:
    """What a catalogue card says about obtaining a measure."""

    channel: str | None
    can_apply: bool
    claim: Claim | None
    partner_banks: tuple[Bank, ...] = ()
    auto_grant: bool = False  # 免申即享: the portal offers it unasked; applying is the fallback


def can_apply_online(portal: Portal, rule: Rule) -> bool:
    """True when a draft can be started: a form channel, its form, its workflow and a lead unit."""
    return (
        rule.applied_through_form
        and rule.id in portal.forms
        and rule.workflow in portal.workflows
        and rule.lead_unit is not None
    )


def catalogue_channels(portal: Portal, measure_ids: Iterable[str]) -> dict[str, ChannelView]:
    """The channel of each measure in force today (measures not in force are left out)."""
    today = portal.today()
    rules = [r for m in measure_ids if (r := portal.pack.select(m, today)) is not None]
    partner_banks: tuple[Bank, ...] = ()
    if any(r.channel == "bank" for r in rules):
        partner_banks = tuple(banks.active_banks(portal))
    return {
        r.id: ChannelView(
            channel=r.channel,
            can_apply=can_apply_online(portal, r),
            claim=r.claim,
            partner_banks=partner_banks if r.channel == "bank" else (),
            auto_grant=r.auto_grant,
        )
        for r in rules
    }
