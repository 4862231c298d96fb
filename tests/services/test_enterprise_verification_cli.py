"""`portal enterprises verify`: the operator's out-of-band verification, audited, on both databases."""

from collections.abc import Iterator

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from portal.cli import app
from portal.db.tables import AuditEvent, Enterprise
from portal.services.context import Portal
from portal.services.enterprises import register_enterprise
from portal.settings import get_settings
from tests.web.portal_helpers import PASSWORD, new_uscc


@pytest.fixture
def cli_db(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


def test_the_operator_verifies_an_enterprise(cli_db: str) -> None:
    portal = Portal.from_settings(get_settings())
    code = new_uscc()
    register_enterprise(
        portal,
        uscc=code,
        name="广州命令行科技有限公司",
        district="haizhu",
        username="cli_ent",
        password=PASSWORD,
        display_name="命令行",
    )
    runner = CliRunner()
    unknown = runner.invoke(app, ["enterprises", "verify", new_uscc()])
    assert unknown.exit_code == 1 and "not found" in unknown.stderr
    done = runner.invoke(app, ["enterprises", "verify", code.lower()])
    assert done.exit_code == 0 and "广州命令行科技有限公司" in done.stdout
    with portal.reading() as session:
        enterprise = session.exec(select(Enterprise).where(col(Enterprise.uscc) == code)).one()
        events = session.exec(
            select(AuditEvent.event).where(col(AuditEvent.subject_id) == str(enterprise.id))
        ).all()
    assert enterprise.verified_via == "admin" and "enterprise_verified" in events
