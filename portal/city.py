"""The pack's `pack.yaml`: what a pack says about its city besides rules, forms and workflows.

The site's name, the jurisdictions reviewers are assigned to (and the value that means "not in
this city"), the tracks an enterprise may name, and the bank products of the bank API all
differ from city to city, so they live in the pack and nothing in `portal/` names them. The
file is read with the pack's one YAML loader (exact numbers, no duplicate keys, no `on:` trap).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from portal.rules.errors import RuleFileError
from portal.rules.pack import PACK_FILE
from portal.rules.yaml_loader import load_yaml

DEFAULT_RUBRIC = "default"
"""The rubric (workflows/rubrics/default.yaml) of a pack.yaml without `scoring`, as every pack had one."""
DEFAULT_NOTICE_MARK = "公示"
"""The notice number's mark (穗科公示〔2026〕3号) of a pack.yaml without `notices`."""

_TOP_KEYS = {
    "site",
    "identity",
    "value_labels",
    "fact_groups",
    "jurisdictions",
    "tracks",
    "banking",
    "scoring",
    "notices",
    "entities",
}


@dataclass(frozen=True)
class Text:
    """A bilingual text from the pack."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Choice:
    """One enum fact the portal offers as a list (districts, tracks), with a label per value.

    `offered` are the values a person picks from; `outside` the ones that mean "not one of
    ours" (an enterprise registered elsewhere: no reviewer's district, never offered).
    """

    fact: str
    labels: Mapping[str, Text]
    offered: tuple[str, ...]
    outside: tuple[str, ...] = ()
    name: Text | None = None
    """What the pack calls the list (its `label:`), e.g. the action plan's name for its tracks;
    None: pages use their generic word."""
    units: Mapping[str, Text] = field(default_factory=dict)
    """Jurisdictions only (`units:`): the unit that handles a district's cases at its district
    stage, by district, so a case page names a bureau as the city's stages do; a district
    without one is named by its label."""

    @property
    def inside(self) -> tuple[str, ...]:
        """Every labelled value except the `outside` ones (e.g. all the city's districts)."""
        return tuple(value for value in self.labels if value not in self.outside)

    def label(self, value: str | None, lang: str) -> str:
        if not value:
            return ""
        text = self.labels.get(value)
        return text.get(lang) if text is not None else value

    def unit(self, value: str | None, lang: str) -> str:
        """The unit that handles `value`'s cases, or the value's label when the pack names none."""
        found = self.units.get(value or "")
        return found.get(lang) if found is not None else self.label(value, lang)

    def options(self, lang: str) -> list[tuple[str, str]]:
        return [(value, self.label(value, lang)) for value in self.offered]

    def called(self, lang: str, generic: str) -> str:
        """The pack's name for the list in `lang`, or the page's `generic` word when it gives none."""
        return self.name.get(lang) if self.name is not None else generic


@dataclass(frozen=True)
class FactGroupSpec:
    """A heading on the self-check and profile pages and the facts under it, in order."""

    key: str
    label: Text
    facts: tuple[str, ...]


@dataclass(frozen=True)
class Banking:
    """The bank API's products (published names → measure ids) and the loans' workflow."""

    products: Mapping[str, str]
    loan_workflow: str
    # The fact that says "granted by a partner bank", true for every bank holding a key.
    partner_fact: str


@dataclass(frozen=True)
class Verification:
    """How a new enterprise account is verified by papers: the workflow, and its state that verifies."""

    workflow: str
    verified: str


def split_fact(fact: str) -> tuple[str, str]:
    """`enterprise.district` → ("enterprise", "district")."""
    entity, _, name = fact.partition(".")
    return entity, name


@dataclass(frozen=True)
class City:
    """Everything city-specific the web and services read that is not a rule, form or workflow."""

    site_name: Text
    site_short: Text
    site_issuer: Text
    site_lead: Text
    site_mark: str
    # The facts that carry the registered name and code (with the jurisdiction's fact, the
    # register's identity): authoritative over anything a profile or a form says.
    name_fact: str
    code_fact: str
    value_labels: Mapping[str, Mapping[str, Text]]
    # What each entity of facts.yaml is called where people read (贷款 for `loan`): the self-check
    # says which measures are judged on which, rather than leaving them unexplained.
    entity_labels: Mapping[str, Text]
    fact_groups: tuple[FactGroupSpec, ...]
    jurisdictions: Choice
    tracks: Choice
    banking: Banking
    verification: Verification
    # The rubric (workflows/rubrics/<name>.yaml) of a measure whose rule names none.
    default_rubric: str
    # Between the unit's abbreviation and 〔year〕 in a public notice's number (`notices.number_mark`).
    notice_mark: str = DEFAULT_NOTICE_MARK

    def registered_facts(self, *, name: str, code: str, district: str) -> dict[str, dict[str, object]]:
        """The register's identity as facts keyed by entity, to overlay on a profile."""
        facts: dict[str, dict[str, object]] = {}
        for fact, value in (
            (self.name_fact, name),
            (self.code_fact, code),
            (self.jurisdictions.fact, district),
        ):
            entity, short = split_fact(fact)
            facts.setdefault(entity, {})[short] = value
        return facts

    def value_label(self, fact: str, value: str, lang: str) -> str:
        """The label of an enum fact's value (`enterprise.district`, `tianhe`), else the value."""
        text = self.value_labels.get(fact, {}).get(value)
        return text.get(lang) if text is not None else value

    @property
    def workflows_not_applied_for(self) -> frozenset[str]:
        """Workflows that cases enter some other way than an enterprise's application."""
        return frozenset({self.banking.loan_workflow, self.verification.workflow})


def load_city(pack_dir: Path) -> City:
    """Read `pack.yaml`; a missing or malformed entry is a RuleFileError naming it."""
    path = pack_dir / PACK_FILE
    raw = load_yaml(path)
    reader = _Reader(path)
    data = reader.mapping(
        raw, "", _TOP_KEYS, required=_TOP_KEYS - {"fact_groups", "scoring", "notices", "entities"}
    )
    site_keys = {"name", "short", "issuer", "lead", "mark"}
    site = reader.mapping(data["site"], "site", site_keys, required=site_keys)
    banking = reader.mapping(
        data["banking"],
        "banking",
        {"products", "loan_workflow", "partner_fact"},
        required={"products", "loan_workflow", "partner_fact"},
    )
    products = reader.mapping(banking["products"], "banking.products", None)
    identity_keys = {"name", "code", "verification"}
    identity = reader.mapping(data["identity"], "identity", identity_keys, required=identity_keys)
    verification = reader.mapping(
        identity["verification"],
        "identity.verification",
        {"workflow", "verified"},
        required={"workflow", "verified"},
    )
    # Optional: a pack written before measures chose rubrics scores every case on rubrics/default.yaml.
    scoring = reader.mapping(
        data.get("scoring", {"rubric": DEFAULT_RUBRIC}), "scoring", {"rubric"}, required={"rubric"}
    )
    notices = reader.mapping(
        data.get("notices", {"number_mark": DEFAULT_NOTICE_MARK}),
        "notices",
        {"number_mark"},
        required={"number_mark"},
    )
    value_labels = {
        fact: {
            value: reader.text(text, f"value_labels.{fact}.{value}")
            for value, text in reader.mapping(labels, f"value_labels.{fact}", None).items()
        }
        for fact, labels in reader.mapping(data["value_labels"], "value_labels", None).items()
    }
    return City(
        site_name=reader.text(site["name"], "site.name"),
        site_short=reader.text(site["short"], "site.short"),
        site_issuer=reader.text(site["issuer"], "site.issuer"),
        site_lead=reader.text(site["lead"], "site.lead"),
        site_mark=reader.word(site["mark"], "site.mark"),
        name_fact=reader.word(identity["name"], "identity.name"),
        code_fact=reader.word(identity["code"], "identity.code"),
        value_labels=value_labels,
        entity_labels={
            entity: reader.text(text, f"entities.{entity}")
            for entity, text in reader.mapping(data.get("entities", {}), "entities", None).items()
        },
        fact_groups=tuple(
            reader.fact_group(item, f"fact_groups[{index}]")
            for index, item in enumerate(reader.items(data.get("fact_groups", []), "fact_groups"))
        ),
        jurisdictions=reader.choice(data["jurisdictions"], "jurisdictions", value_labels, with_units=True),
        tracks=reader.choice(data["tracks"], "tracks", value_labels),
        banking=Banking(
            products={
                name: reader.word(measure, f"banking.products.{name}") for name, measure in products.items()
            },
            loan_workflow=reader.word(banking["loan_workflow"], "banking.loan_workflow"),
            partner_fact=reader.word(banking["partner_fact"], "banking.partner_fact"),
        ),
        verification=Verification(
            workflow=reader.word(verification["workflow"], "identity.verification.workflow"),
            verified=reader.word(verification["verified"], "identity.verification.verified"),
        ),
        default_rubric=reader.word(scoring["rubric"], "scoring.rubric"),
        notice_mark=reader.word(notices["number_mark"], "notices.number_mark"),
    )


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> RuleFileError:
        return RuleFileError(self.path, 0, where, message)

    def mapping(
        self,
        value: object,
        where: str,
        allowed: set[str] | None,
        *,
        required: set[str] | frozenset[str] = frozenset(),
    ) -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be a mapping")
        unknown = set(value) - allowed if allowed is not None else set()
        if unknown:
            raise self.fail(where, f"unknown key(s) {sorted(unknown)}")
        missing = set(required) - set(value)
        if missing:
            raise self.fail(where, f"missing {sorted(missing)}")
        return dict(value)

    def word(self, value: object, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "must be a non-empty name")
        return value

    def text(self, value: object, where: str) -> Text:
        data = self.mapping(value, where, {"zh", "en"}, required={"zh", "en"})
        return Text(zh=self.word(data["zh"], f"{where}.zh"), en=self.word(data["en"], f"{where}.en"))

    def items(self, value: object, where: str) -> list[object]:
        if not isinstance(value, list):
            raise self.fail(where, "must be a list")
        return list(value)

    def fact_group(self, value: object, where: str) -> FactGroupSpec:
        data = self.mapping(value, where, {"key", "label", "facts"}, required={"key", "label", "facts"})
        return FactGroupSpec(
            key=self.word(data["key"], f"{where}.key"),
            label=self.text(data["label"], f"{where}.label"),
            facts=self.words(data["facts"], f"{where}.facts"),
        )

    def words(self, value: object, where: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(where, "must be a list")
        return tuple(self.word(item, f"{where}[{index}]") for index, item in enumerate(value))

    def choice(
        self,
        value: object,
        where: str,
        value_labels: Mapping[str, Mapping[str, Text]],
        *,
        with_units: bool = False,
    ) -> Choice:
        keys = {"fact", "offered", "outside", "label"} | ({"units"} if with_units else set())
        data = self.mapping(value, where, keys, required={"fact"})
        fact = self.word(data["fact"], f"{where}.fact")
        labels = value_labels.get(fact)
        if not labels:
            raise self.fail(f"{where}.fact", f"value_labels has no labels for {fact!r}")
        outside = self.words(data.get("outside", []), f"{where}.outside")
        offered = (
            self.words(data["offered"], f"{where}.offered")
            if "offered" in data
            else tuple(name for name in labels if name not in outside)
        )
        for name in (*offered, *outside):
            if name not in labels:
                raise self.fail(where, f"{name!r} has no label in value_labels.{fact}")
        called = self.text(data["label"], f"{where}.label") if "label" in data else None
        units = self.mapping(data.get("units", {}), f"{where}.units", None)
        for name in units:
            if name not in labels or name in outside:
                raise self.fail(f"{where}.units", f"{name!r} is not one of the {fact} values inside")
        return Choice(
            fact=fact,
            labels=labels,
            offered=offered,
            outside=outside,
            name=called,
            units={name: self.text(unit, f"{where}.units.{name}") for name, unit in units.items()},
        )
