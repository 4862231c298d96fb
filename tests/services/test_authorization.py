"""Reading is authorised per object: who sees a case, in Guangzhou's cast.

The matrix of every event by every actor in every stage runs over both packs, with the allowed
pairs read off the workflow: tests/services/test_engine_behaviour.py.
"""

import pytest
from services_helpers import Driver, World

from portal.services import access
from portal.services.context import Portal
from portal.services.errors import NotFound


def test_reading_is_authorised_per_object(portal: Portal, world: World) -> None:
    case = Driver(portal, world)
    for outsider in ("ent_b", "rev_tianhe", "rev_gzdev", "expert1", "rev_haizhu"):
        with pytest.raises(NotFound):  # nobody but the owner sees a draft
            access.get_application_for(portal, world.actors[outsider], case.app_id)
    case.to_expert_review()
    for insider in ("ent_a", "rev_tianhe", "rev_gzdev", "admin"):
        assert access.get_application_for(portal, world.actors[insider], case.app_id).id == case.app_id
    for outsider in ("ent_b", "rev_haizhu", "rev_gzsti", "expert1", "expert4"):
        with pytest.raises(NotFound):
            access.get_application_for(portal, world.actors[outsider], case.app_id)
    with pytest.raises(NotFound):
        access.get_application_for(portal, world.actors["ent_a"], 999_999)
    assert [a.id for a in access.list_applications_for(portal, world.actors["rev_haizhu"])] == []
    assert [a.id for a in access.list_applications_for(portal, world.actors["rev_tianhe"])] == [case.app_id]
