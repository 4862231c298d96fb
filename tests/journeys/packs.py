"""The packs the journey matrix runs over, and what it reads from each: measures, workflows, identity.

The portal's own pack (`PORTAL_PACK_DIR`, else the repository's) and every pack under
`tests/packs/` run the same matrix; nothing here names a measure, a state or an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from portal.city import City, load_city, split_fact
from portal.rules import Pack, Rule, load_pack
from portal.settings import Settings
from portal.workflows import Workflow, load_workflows

PINNED = date(2026, 6, 1)
"""The day every journey happens on (the clock is pinned: no test depends on today's date)."""

TEST_PACKS = Path(__file__).resolve().parents[1] / "packs"


@dataclass(frozen=True)
class Example:
    """A measure's first eligible example on PINNED: the facts an applicant's profile holds."""

    facts: dict[str, dict[str, object]]
    grants_money: bool

    @property
    def holds(self) -> frozenset[str]:
        """The `when:` conditions true of a case built on these facts."""
        return frozenset({"money_benefit" if self.grants_money else "no_money_benefit"})


class PackUnderTest:
    """One pack directory, loaded once at collection."""

    def __init__(self, name: str, directory: Path) -> None:
        self.name = name
        self.directory = directory
        settings = Settings(pack_dir=directory)
        self.pack: Pack = load_pack(settings.rules_dir)
        self.workflows: dict[str, Workflow] = load_workflows(settings.workflows_dir)
        self.city: City = load_city(directory)

    @cached_property
    def in_force(self) -> dict[str, Rule]:
        found = {m: self.pack.select(m, PINNED) for m in self.pack.measure_ids()}
        return {m: rule for m, rule in found.items() if rule is not None}

    @property
    def online(self) -> list[str]:
        """Measures applied for through the portal's form (the rule's channel says so)."""
        return sorted(m for m, rule in self.in_force.items() if rule.applied_through_form)

    @property
    def offline(self) -> list[str]:
        """Measures claimed elsewhere (the tax filing, a partner bank): never a draft."""
        return sorted(m for m, rule in self.in_force.items() if not rule.applied_through_form)

    def workflow_of(self, measure_id: str) -> Workflow:
        name = self.in_force[measure_id].workflow
        assert name is not None, f"{measure_id} is applied for online but names no workflow"
        return self.workflows[name]

    def example(self, measure_id: str) -> Example:
        """The first example eligible on PINNED, preferring one that grants money."""
        rule = self.in_force[measure_id]
        found: list[Example] = []
        for example in rule.examples:
            if example.outcome != "eligible":
                continue
            result = rule.evaluate(self.pack.facts.parse(example.facts), PINNED, False)
            if result.outcome.value != "eligible":
                continue
            money = any(
                rule.benefit[name].type == "money" and Decimal(str(amount)) > 0
                for name, amount in (result.benefit or {}).items()
                if name in rule.benefit
            )
            found.append(Example({e: dict(v) for e, v in example.facts.items()}, money))
        assert found, f"{measure_id}: no example is eligible on {PINNED} to build an applicant from"
        return next((e for e in found if e.grants_money), found[0])

    def identity_facts(self) -> set[tuple[str, str]]:
        """(entity, fact) of the registered name, code and jurisdiction: the register's, not the profile's."""
        facts = (self.city.name_fact, self.city.code_fact, self.city.jurisdictions.fact)
        return {split_fact(f) for f in facts}


def _discover() -> dict[str, PackUnderTest]:
    default = Settings().pack_dir.resolve()
    packs = {"main": PackUnderTest("main", default)}
    for directory in sorted(TEST_PACKS.iterdir()) if TEST_PACKS.is_dir() else []:
        if (directory / "rules" / "facts.yaml").is_file() and directory.resolve() != default:
            packs[directory.name] = PackUnderTest(directory.name, directory)
    return packs


PACKS = _discover()
