"""The examples runner: every measure file carries worked cases that must keep passing."""

from dataclasses import dataclass
from datetime import date

from portal.rules.errors import FactError
from portal.rules.facts import FactDictionary
from portal.rules.model import Example, Rule
from portal.rules.pack import not_in_force
from portal.rules.result import Result


@dataclass(frozen=True)
class ExampleRun:
    rule: Rule
    example: Example
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def location(self) -> str:
        return f"{self.rule.path}:{self.example.line}"


def example_date(rule: Rule, example: Example) -> date:
    return example.on or rule.effective_from


def run_example(rule: Rule, example: Example, facts: FactDictionary) -> ExampleRun:
    try:
        parsed = facts.parse(example.facts)
    except FactError as exc:
        return ExampleRun(rule, example, (f"bad example facts: {exc}",))
    on = example_date(rule, example)
    result: Result = rule.evaluate(parsed, on) if rule.in_force(on) else not_in_force(rule.id, [rule], on)
    problems: list[str] = []
    if result.outcome.value != example.outcome:
        problems.append(f"outcome {result.outcome.value}, expected {example.outcome}")
    for name, wanted in (example.benefit or {}).items():
        got = result.benefit.get(name)
        if got is None:
            problems.append(f"benefit {name} missing, expected {wanted}")
        elif got != wanted:
            problems.append(f"benefit {name} = {got}, expected {wanted}")
    if example.missing_facts is not None and set(example.missing_facts) != set(result.missing_facts):
        problems.append(
            f"missing_facts {sorted(result.missing_facts)}, expected {sorted(example.missing_facts)}"
        )
    return ExampleRun(rule, example, tuple(problems))


def run_examples(rules: list[Rule], facts: FactDictionary) -> list[ExampleRun]:
    return [run_example(rule, example, facts) for rule in rules for example in rule.examples]
