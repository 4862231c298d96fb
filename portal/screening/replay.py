"""Impact of a rule change on stored applications: judge each one again under both rule versions.

Stored applications are replayed with the scalar evaluator, not the SQL compiler. `submit`
judged them with the scalar evaluator, so the replay reproduces that decision exactly; each
case has its own evaluation date (its submission day), which in SQL would need one compiled
statement per distinct date; and applications number in the thousands, not the millions a
screening INPUT holds. The SQL path is proven equal to the evaluator by the property test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from portal.rules import Outcome, Rule
from portal.screening.impact import RuleSet, same_measure


@dataclass(frozen=True)
class StoredCase:
    """One submitted application, with the facts it was judged on (profile snapshot + its answers)."""

    application_id: int
    uscc: str
    measure: str
    state: str
    submitted_on: date
    """The submission day in Asia/Shanghai: the date `submit` evaluated the rule at."""
    facts: Mapping[str, Mapping[str, object]]


@dataclass(frozen=True)
class CaseChange:
    """An application whose outcome or benefit amounts differ between the two versions."""

    application_id: int
    uscc: str
    measure: str
    state: str
    evaluated_on: date
    old: str
    new: str
    old_benefit: dict[str, Decimal]
    new_benefit: dict[str, Decimal]

    @property
    def benefit_delta(self) -> dict[str, Decimal]:
        """NEW minus OLD for every benefit either side grants (a missing amount counts as 0)."""
        names = sorted({*self.old_benefit, *self.new_benefit})
        zero = Decimal(0)
        return {n: self.new_benefit.get(n, zero) - self.old_benefit.get(n, zero) for n in names}

    def to_json(self) -> dict[str, object]:
        return {
            "application_id": self.application_id,
            "uscc": self.uscc,
            "measure": self.measure,
            "state": self.state,
            "evaluated_on": self.evaluated_on.isoformat(),
            "old": self.old,
            "new": self.new,
            "old_benefit": _texts(self.old_benefit),
            "new_benefit": _texts(self.new_benefit),
            "benefit_delta": _texts(self.benefit_delta),
        }


@dataclass(frozen=True)
class Skipped:
    """A stored application whose facts no longer read under today's fact dictionary."""

    application_id: int
    reason: str


@dataclass
class ApplicationImpact:
    """Stored applications replayed under OLD and NEW: flips, benefit totals, affected cases."""

    since: date
    on: date | None
    """The forced evaluation date; None means each application's submission day."""
    measures: list[str]
    replayed: int = 0
    changes: list[CaseChange] = field(default_factory=list)
    directions: Counter[tuple[str, str]] = field(default_factory=Counter)
    benefit_totals: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    """money benefit name → (total under OLD, total under NEW), over eligible applications."""
    skipped: list[Skipped] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat(),
            "on": self.on.isoformat() if self.on else None,
            "applications": self.replayed,
            "measures": self.measures,
            "flips": {f"{old}->{new}": n for (old, new), n in sorted(self.directions.items())},
            "benefit_change": {
                name: {"old": str(old), "new": str(new), "change": str(new - old)}
                for name, (old, new) in sorted(self.benefit_totals.items())
            },
            "affected": [change.to_json() for change in self.changes],
            "skipped": [{"application_id": s.application_id, "reason": s.reason} for s in self.skipped],
        }


def replayed_measures(old: RuleSet, new: RuleSet) -> list[str]:
    """The measures both REFs speak about: only their applications are replayed."""
    same_measure(old, new)
    return sorted(old.measure_ids() & new.measure_ids())


def replay_cases(
    cases: Sequence[StoredCase],
    old: RuleSet,
    new: RuleSet,
    since: date,
    on: date | None = None,
    skipped: Sequence[Skipped] = (),
) -> ApplicationImpact:
    """Judge every case under both versions at its submission day (or `on`) and diff the results.

    A side with no version in force on that day gives `not_in_force`; a case in force on neither
    side is not counted, since neither version speaks about it.
    """
    measures = replayed_measures(old, new)
    report = ApplicationImpact(since=since, on=on, measures=measures, skipped=list(skipped))
    for case in sorted(cases, key=lambda c: c.application_id):
        if case.measure not in measures:
            continue
        when = on or case.submitted_on
        old_rule, new_rule = old.rule_for(case.measure, when), new.rule_for(case.measure, when)
        if old_rule is None and new_rule is None:
            continue
        report.replayed += 1
        was, old_benefit = _judge(old_rule, case.facts, when)
        now, new_benefit = _judge(new_rule, case.facts, when)
        _add_totals(report, _money(old_rule, old_benefit), _money(new_rule, new_benefit))
        if was != now:
            report.directions[(was, now)] += 1
        if was != now or old_benefit != new_benefit:
            report.changes.append(
                CaseChange(
                    case.application_id, case.uscc, case.measure, case.state, when,
                    was, now, old_benefit, new_benefit,
                )
            )  # fmt: skip
    return report


def _judge(
    rule: Rule | None, facts: Mapping[str, Mapping[str, object]], on: date
) -> tuple[str, dict[str, Decimal]]:
    if rule is None:
        return Outcome.NOT_IN_FORCE.value, {}
    result = rule.evaluate({entity: dict(values) for entity, values in facts.items()}, on, trace=False)
    # The evaluator grants benefits only to eligible facts, so the totals cover eligible cases only.
    return result.outcome.value, dict(result.benefit)


def _money(rule: Rule | None, benefit: dict[str, Decimal]) -> dict[str, Decimal]:
    """Only amounts of money add up; a total of compensation ratios would mean nothing."""
    if rule is None:
        return {}
    return {name: value for name, value in benefit.items() if rule.benefit[name].type == "money"}


def _add_totals(report: ApplicationImpact, old: dict[str, Decimal], new: dict[str, Decimal]) -> None:
    zero = Decimal(0)
    for name in {*old, *new}:
        before, after = report.benefit_totals.get(name, (zero, zero))
        report.benefit_totals[name] = (before + old.get(name, zero), after + new.get(name, zero))


def _texts(amounts: Mapping[str, Decimal]) -> dict[str, str]:
    return {name: str(amount) for name, amount in amounts.items()}
