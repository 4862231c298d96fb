"""The `Portal`: everything a use case needs, built once at the edge and passed to every service.

Holding the engine, the loaded pack and the clock in one object keeps services free of
globals and environment reads, and lets a test (or `portal sla sweep --today`) fix the date.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from portal.db.engine import make_engine, session_scope
from portal.forms import FormSpec, load_forms
from portal.rules import Pack, load_pack
from portal.settings import Settings
from portal.workflows import Workflow, WorkingCalendar, load_workflows
from portal.workflows.rubric import Rubric, load_rubric
from portal.workflows.sla import SHANGHAI

CALENDAR_FILE = Path("calendar") / "cn-holidays.yaml"
RUBRIC_FILE = Path("rubrics") / "default.yaml"


@dataclass(frozen=True)
class SmtpConfig:
    """Where e-mail notifications go; absent means in-app notifications only."""

    host: str
    port: int
    sender: str


@dataclass
class Portal:
    """The services' view of the world. `today_override` pins the clock (tests, replays)."""

    engine: Engine
    pack: Pack
    workflows: dict[str, Workflow]
    forms: dict[str, FormSpec]
    calendar: WorkingCalendar
    rubric: Rubric
    data_dir: Path
    public_base_url: str = "http://127.0.0.1:8000"
    smtp: SmtpConfig | None = None
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    today_override: date | None = field(default=None)

    @classmethod
    def from_settings(cls, settings: Settings, *, engine: Engine | None = None) -> "Portal":
        """Load the pack, forms, workflows, calendar and rubric named by `settings` (once per process)."""
        smtp = (
            SmtpConfig(settings.smtp_host, settings.smtp_port, settings.smtp_sender)
            if settings.smtp_host
            else None
        )
        return cls(
            engine=engine if engine is not None else make_engine(settings.database_url),
            pack=load_pack(settings.rules_dir),
            workflows=load_workflows(settings.workflows_dir),
            forms=load_forms(settings.forms_dir),
            calendar=WorkingCalendar.load(settings.workflows_dir / CALENDAR_FILE),
            rubric=load_rubric(settings.workflows_dir / RUBRIC_FILE),
            data_dir=settings.data_dir,
            public_base_url=settings.public_base_url.rstrip("/"),
            smtp=smtp,
            login_max_failures=settings.login_max_failures,
            login_lock_minutes=settings.login_lock_minutes,
        )

    def today(self) -> date:
        """Today in Guangzhou: deadlines and rule dates are local dates, never UTC ones."""
        if self.today_override is not None:
            return self.today_override
        return datetime.now(SHANGHAI).date()

    def now(self) -> datetime:
        """The current instant (UTC); with a pinned day, noon of that day in Guangzhou."""
        if self.today_override is not None:
            return datetime.combine(self.today_override, time(12), tzinfo=SHANGHAI).astimezone(UTC)
        return datetime.now(UTC)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One use case's unit of work: everything commits together or nothing does."""
        with session_scope(self.engine) as session:
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
