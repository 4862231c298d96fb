"""The reviewer's filtered queue, read once for the `/review` page and its CSV/XLSX exports.

Both routes take the same query string, so the filters are parsed and applied here and nowhere
else: an export always holds exactly the rows the page shows for the same URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.db.tables import Application, Enterprise
from portal.services.access import list_applications_for
from portal.services.case_files import enterprises_by_id
from portal.services.context import Portal
from portal.workflows import Actor


@dataclass(frozen=True)
class QueueFilter:
    """The queue's query string (`?state=&district=&measure=&track=`); empty means any.

    Used as a FastAPI dependency (`Annotated[QueueFilter, Depends()]`), so every route that
    shows the queue reads the same parameters.
    """

    state: str = ""
    district: str = ""
    measure: str = ""
    track: str = ""

    def chosen(self) -> dict[str, str]:
        return {"state": self.state, "district": self.district, "measure": self.measure, "track": self.track}


def queued_cases(portal: Portal, actor: Actor, chosen: QueueFilter) -> list[tuple[Application, Enterprise]]:
    """The cases this actor may see that match the filter, soonest deadline first, with their enterprise."""
    cases = list_applications_for(
        portal,
        actor,
        states=[chosen.state] if chosen.state else None,
        measure_id=chosen.measure or None,
        district=chosen.district or None,
    )
    names = enterprises_by_id(portal, {c.enterprise_id for c in cases})
    pairs = [(c, names[c.enterprise_id]) for c in cases]
    if chosen.track:
        pairs = [(c, e) for c, e in pairs if e.ai_track == chosen.track]
    return pairs
