"""The `Portal`: everything a use case needs, built once at the edge and passed to every service.

Holding the engine, the loaded pack and the clock in one object keeps services free of
globals and environment reads, and lets a test (or `portal sla sweep --today`) fix the date.
The clock's time zone is the pack's (its calendar file's `timezone:`).
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from portal.city import City, load_city
from portal.clock import Clock
from portal.db.audit import CLOCK_KEY
from portal.db.engine import make_engine, session_scope
from portal.documents.wording import Remedies, load_remedies
from portal.forms import FormFileError, FormSpec, load_forms
from portal.forms.model import Text
from portal.rules import Pack, RuleFileError, load_pack
from portal.rules.pack import PACK_FILE, RUBRICS_DIR
from portal.services.blobs import BlobStore, StoreKind, blob_store
from portal.settings import Settings
from portal.workflows import Workflow, WorkingCalendar, load_workflows
from portal.workflows.rubric import Rubric, load_rubrics

REMEDY_FILE = Path("letters") / "remedy.yaml"


@dataclass(frozen=True)
class SmtpConfig:
    """Where e-mail notifications go; absent means in-app notifications only."""

    host: str
    port: int
    sender: str


@dataclass
class Portal:
    """The services' view of the world. `clock` is the one source of now; tests pin it."""

    engine: Engine
    pack: Pack
    workflows: dict[str, Workflow]
    forms: dict[str, FormSpec]
    calendar: WorkingCalendar
    # Each measure's expert-scoring rubric, from `measure_rubrics`; read through `rubric_for`.
    rubrics: Mapping[str, Rubric]
    clock: Clock
    city: City
    data_dir: Path
    remedies: Remedies
    public_base_url: str = "http://127.0.0.1:8000"
    smtp: SmtpConfig | None = None
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    attachment_store: StoreKind | None = None
    # argon2id cost of new password hashes (`PORTAL_PASSWORD_HASH_COST`); None: pwdlib's recommended.
    password_cost: tuple[int, int, int] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, engine: Engine | None = None) -> "Portal":
        """Load the pack, forms, workflows, calendar and rubrics named by `settings` (once per process)."""
        smtp = (
            SmtpConfig(settings.smtp_host, settings.smtp_port, settings.smtp_sender)
            if settings.smtp_host
            else None
        )
        calendar = WorkingCalendar.load(settings.calendar_file)
        pack = load_pack(settings.rules_dir)
        workflows = load_workflows(settings.workflows_dir)
        city = load_city(settings.pack_dir)
        check_city(city, pack, workflows, settings.pack_dir)
        forms = with_pack_tracks(city, load_forms(settings.forms_dir))
        rubrics = measure_rubrics(
            pack, load_rubrics(settings.workflows_dir / RUBRICS_DIR), city.default_rubric, settings.pack_dir
        )
        return cls(
            engine=engine if engine is not None else make_engine(settings.database_url),
            pack=pack,
            workflows=workflows,
            forms=forms,
            calendar=calendar,
            rubrics=rubrics,
            clock=Clock(calendar.zone, settings.today),
            city=city,
            data_dir=settings.data_dir,
            remedies=load_remedies(settings.workflows_dir / REMEDY_FILE),
            public_base_url=settings.public_base_url.rstrip("/"),
            smtp=smtp,
            login_max_failures=settings.login_max_failures,
            login_lock_minutes=settings.login_lock_minutes,
            attachment_store=settings.attachment_store,
            password_cost=settings.password_hash_cost,
        )

    def rubric_for(self, measure_id: str) -> Rubric:
        """The rubric experts score the measure's cases on: its rule's `rubric:`, else pack.yaml's."""
        return self.rubrics[measure_id]

    @property
    def blobs(self) -> BlobStore:
        """Where upload bytes live (`PORTAL_ATTACHMENT_STORE`; the database on PostgreSQL)."""
        return blob_store(self.attachment_store, self.engine, self.data_dir)

    def today(self) -> date:
        """Today in the pack's city: deadlines and rule dates are local dates, never UTC ones."""
        return self.clock.today()

    def now(self) -> datetime:
        """The current instant (UTC); with a pinned day, noon of that day in the pack's city."""
        return self.clock.now()

    @property
    def today_override(self) -> date | None:
        """The day the clock is pinned to, if any."""
        return self.clock.pinned

    @today_override.setter
    def today_override(self, day: date | None) -> None:
        # A new clock, not a mutated one: copies made with dataclasses.replace keep their own.
        self.clock = self.clock.pinned_to(day)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One use case's unit of work: everything commits together or nothing does.

        The session carries the portal's clock, so the audit rows it appends are stamped with
        the same instant as the change they record (a pinned day pins both).
        """
        with session_scope(self.engine) as session:
            session.info[CLOCK_KEY] = self.clock
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session that never takes SQLite's write lock.

        Rows are detached before the closing rollback, which would otherwise expire them:
        a read use case returns its rows for the caller to use afterwards.
        """
        with session_scope(self.engine, read_only=True) as session:
            try:
                yield session
            finally:
                session.expunge_all()


def with_pack_tracks(city: City, forms: Mapping[str, FormSpec]) -> dict[str, FormSpec]:
    """The forms, each `track_field` labelled with pack.yaml's track labels.

    Its answer is the case's track, so it offers only the pack's tracks, and under the names the
    queue's filter, exports and figures use: a form that labels them itself is refused, so a
    track cannot read one way on the case page and another in the filter.
    """
    labelled = dict(forms)
    for measure, spec in forms.items():
        if spec.track_field is None:
            continue
        strays = sorted(set(spec.schema["properties"][spec.track_field]["enum"]) - set(city.tracks.labels))
        if strays:
            raise FormFileError(
                spec.path, "track_field", f"values that are not tracks of pack.yaml: {strays}"
            )
        if spec.fields[spec.track_field].options:
            raise FormFileError(
                spec.path,
                "track_field",
                f"`{spec.track_field}` labels its options; the tracks' labels come from "
                "pack.yaml value_labels",
            )
        options = {code: Text(text.zh, text.en) for code, text in city.tracks.labels.items()}
        sections = tuple(
            replace(
                s,
                fields=tuple(
                    replace(f, options=options) if f.name == spec.track_field else f for f in s.fields
                ),
            )
            for s in spec.sections
        )
        labelled[measure] = replace(spec, sections=sections)
    return labelled


def measure_rubrics(
    pack: Pack, rubrics: Mapping[str, Rubric], default: str, pack_dir: Path
) -> dict[str, Rubric]:
    """Each measure's rubric: the one its rule names, else pack.yaml's `scoring.rubric`.

    A name with no rubric file is refused at start-up, naming the file and field that give it,
    rather than when the first expert opens a score sheet.
    """
    known = ", ".join(sorted(rubrics))
    if default not in rubrics:
        raise RuleFileError(
            pack_dir / PACK_FILE,
            0,
            "scoring.rubric",
            f"no rubric {default!r} in {RUBRICS_DIR}/ ({known})",
        )
    chosen = {}
    for measure in pack.measure_ids():
        rule = pack.rubric_named(measure)
        if rule is not None and rule.rubric not in rubrics:
            raise RuleFileError(
                rule.path,
                rule.lines.get("rubric", 0),
                "rubric",
                f"no rubric {rule.rubric!r} in {RUBRICS_DIR}/ ({known})",
            )
        chosen[measure] = rubrics[rule.rubric if rule is not None and rule.rubric else default]
    return chosen


def check_city(city: City, pack: Pack, workflows: Mapping[str, Workflow], pack_dir: Path) -> None:
    """`pack.yaml` names only facts, values, measures and workflows the pack has."""
    where = pack_dir / PACK_FILE
    for name, choice in (("jurisdictions", city.jurisdictions), ("tracks", city.tracks)):
        spec = pack.facts.get(choice.fact)
        if spec is None or spec.type != "enum":
            raise RuleFileError(
                where, 0, f"{name}.fact", f"{choice.fact!r} is not an enum fact of facts.yaml"
            )
        strays = sorted(set(choice.labels) ^ set(spec.values))
        if strays:
            raise RuleFileError(
                where, 0, f"value_labels.{choice.fact}", f"labels and values differ: {strays}"
            )
    # Every value a person may see or pick has a label: pages and hints never show a code.
    for spec in pack.facts.specs.values():
        if spec.type == "enum":
            unlabelled = sorted(set(spec.values) - set(city.value_labels.get(spec.qualified, {})))
            if unlabelled:
                raise RuleFileError(
                    where, 0, f"value_labels.{spec.qualified}", f"values without a label: {unlabelled}"
                )
    named = [("identity.name", city.name_fact), ("identity.code", city.code_fact)]
    named.append(("banking.partner_fact", city.banking.partner_fact))
    named += [(f"fact_groups.{group.key}", fact) for group in city.fact_groups for fact in group.facts]
    for where_in_file, fact in named:
        if pack.facts.get(fact) is None:
            raise RuleFileError(where, 0, where_in_file, f"{fact!r} is not a fact of facts.yaml")
    for product, measure in city.banking.products.items():
        if measure not in pack.measure_ids():
            raise RuleFileError(where, 0, f"banking.products.{product}", f"no measure {measure!r} in rules/")
    if city.banking.loan_workflow not in workflows:
        raise RuleFileError(where, 0, "banking.loan_workflow", f"no workflow {city.banking.loan_workflow!r}")
    verifying = workflows.get(city.verification.workflow)
    if verifying is None:
        raise RuleFileError(
            where, 0, "identity.verification.workflow", f"no workflow {city.verification.workflow!r}"
        )
    if city.verification.verified not in {state.name for state in verifying.states_of_kind("terminal")}:
        raise RuleFileError(
            where, 0, "identity.verification.verified", f"{city.verification.verified!r} is not an end state"
        )
