"""Staff accounts: a reviewer's jurisdiction must name a district and a unit the pack knows."""

import pytest
from services_helpers import PASSWORD, World
from sqlmodel import col, func, select

from portal.db.tables import User
from portal.services import enterprises
from portal.services.context import Portal
from portal.services.errors import ValidationFailed


def _user_count(portal: Portal) -> int:
    with portal.reading() as session:
        return int(session.exec(select(func.count()).select_from(User)).one())


@pytest.mark.parametrize(
    ("scope", "field"),
    [({"district": "atlantis"}, "district"), ({"bureau": "nobody"}, "bureau")],
)
def test_unknown_jurisdiction_is_a_field_error(
    portal: Portal, world: World, scope: dict[str, str], field: str
) -> None:
    """A reviewer of a district no enterprise can be in would see an empty queue forever."""
    before = _user_count(portal)
    with pytest.raises(ValidationFailed) as refused:
        enterprises.create_staff_user(
            portal,
            world.actors["admin"],
            username="rev_new",
            password=PASSWORD,
            display_name="新审核员",
            role="reviewer",
            **scope,
        )
    assert [problem.path for problem in refused.value.errors] == [field]
    assert _user_count(portal) == before


def test_known_district_is_accepted(portal: Portal, world: World) -> None:
    user = enterprises.create_staff_user(
        portal,
        world.actors["admin"],
        username="rev_panyu",
        password=PASSWORD,
        display_name="番禺审核员",
        role="reviewer",
        district="panyu",
    )
    with portal.reading() as session:
        stored = session.exec(select(User).where(col(User.id) == user.id)).one()
    assert (stored.role, stored.district) == ("reviewer", "panyu")


@pytest.mark.parametrize("district", [None, "tianhe"])
def test_supervisor_is_city_wide_or_one_district(portal: Portal, world: World, district: str | None) -> None:
    user = enterprises.create_staff_user(
        portal,
        world.actors["admin"],
        username=f"sup_{district or 'city'}",
        password=PASSWORD,
        display_name="监管员",
        role="supervisor",
        district=district,
    )
    with portal.reading() as session:
        stored = session.exec(select(User).where(col(User.id) == user.id)).one()
    assert (stored.role, stored.district, stored.bureau) == ("supervisor", district, None)


def test_supervisor_of_a_unit_is_a_field_error(portal: Portal, world: World) -> None:
    """A supervisor's scope is the city or a district; a bureau would be silently ignored."""
    before = _user_count(portal)
    with pytest.raises(ValidationFailed) as refused:
        enterprises.create_staff_user(
            portal,
            world.actors["admin"],
            username="sup_bureau",
            password=PASSWORD,
            display_name="监管员",
            role="supervisor",
            bureau="gzsti",
        )
    assert [problem.path for problem in refused.value.errors] == ["bureau"]
    assert _user_count(portal) == before
