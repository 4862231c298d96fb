"""Password rules: long enough, not common, not built from the account's own names, bounded."""

import pytest

from portal.services.auth import check_password_strength


@pytest.mark.parametrize(
    ("password", "personal", "weakness"),
    [
        ("aaaaaaaaaa", (), "too_short"),
        ("1234567890", (), "too_short"),
        ("aaaaaaaaaaaa", (), "too_common"),
        ("123456789012", (), "too_common"),
        ("password1234", (), "too_common"),
        ("zhangsan2026!", ("zhangsan2026",), "personal"),
        ("Tianhe-AI-Robotics", ("广州", "tianhe-ai-robotics co"), "personal"),
        ("x" * 500_000, (), "too_long"),
        ("月" * 400, (), "too_long"),  # 1,200 bytes in UTF-8, though 400 characters
        ("harbour kettle quietly", ("ent12345", "张会计"), None),
        ("correct-horse-battery", ("ent12345",), None),
    ],
)
def test_password_rules(password: str, personal: tuple[str, ...], weakness: str | None) -> None:
    assert check_password_strength(password, personal) == weakness
