"""Rows the persistence tests build on."""

import pytest
from sqlalchemy import Engine

from portal.db.engine import session_scope
from portal.db.tables import Enterprise, EnterpriseProfile

VALID_USCC = "91350100M000100Y43"


@pytest.fixture
def enterprise_id(migrated_engine: Engine) -> int:
    """An enterprise with a confirmed profile version 1."""
    with session_scope(migrated_engine) as session:
        enterprise = Enterprise(
            uscc=VALID_USCC, name="广州智算科技有限公司", district="tianhe", ai_track="zao"
        )
        session.add(enterprise)
        session.flush()
        assert enterprise.id is not None
        session.add(
            EnterpriseProfile(
                enterprise_id=enterprise.id,
                version=1,
                facts={"enterprise": {"employees": 80}},
                confirmed=True,
            )
        )
        return enterprise.id
