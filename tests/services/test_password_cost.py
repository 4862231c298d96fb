"""The argon2id cost of new password hashes: pwdlib's recommended by default, lowered by a setting.

Each hash records the cost it was made with, so hashes of either cost keep verifying whatever the
setting says: changing it never locks anyone out.
"""

from dataclasses import replace

import pytest
from pydantic import ValidationError

from portal.services.auth import authenticate, hash_password, verify_password
from portal.services.context import Portal
from portal.services.enterprises import create_staff_user
from portal.settings import Settings
from tests.conftest import SUITE_PASSWORD_COST

PASSWORD = "correct horse battery staple 7"


def test_the_default_is_pwdlibs_recommended_cost_and_both_costs_verify() -> None:
    recommended = hash_password(PASSWORD)
    cheap = hash_password(PASSWORD, (8192, 1, 1))
    assert recommended.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert cheap.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert verify_password(PASSWORD, recommended) and verify_password(PASSWORD, cheap)
    assert not verify_password(PASSWORD + "x", cheap)


def test_the_setting_is_read_from_the_environment_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_PASSWORD_HASH_COST", "[19456, 2, 1]")
    assert Settings().password_hash_cost == (19456, 2, 1)
    monkeypatch.delenv("PORTAL_PASSWORD_HASH_COST")
    assert Settings().password_hash_cost is None
    for bad in ("[16, 1, 4]", "[8192, 0, 1]", "[8192, 1]"):
        monkeypatch.setenv("PORTAL_PASSWORD_HASH_COST", bad)
        with pytest.raises(ValidationError, match=r"password_hash_cost|PORTAL_PASSWORD_HASH_COST"):
            Settings()


def test_the_portal_hashes_at_its_cost_and_signs_in_across_costs(portal: Portal) -> None:
    """The suite's portal was built from settings with the suite's cost; a portal on the default cost
    still signs in a user whose hash was made at the lower one."""
    assert portal.password_cost == SUITE_PASSWORD_COST
    user = create_staff_user(
        portal, None, username="cost_check", password=PASSWORD, display_name="成本核对", role="supervisor"
    )
    assert user.password_hash.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    default = replace(portal, password_cost=None)
    assert authenticate(default, "cost_check", PASSWORD).username == "cost_check"
