"""The `/review` query string and the filter choices a reviewer is offered.

`/review`, `/review.csv` and `/review.xlsx` read the same parameters through `QueueFilter`, so a
file holds exactly the rows the page shows for the same URL. The choices come from data: the
measures this reviewer works on (`queue.my_measures`), every stage of their workflows, a
district when the reviewer's jurisdiction covers it; labels come from the pack.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from portal.services.context import Portal
from portal.services.queue import (
    HOLDERS,
    SORT_KEYS,
    Holder,
    QueueQuery,
    SortKey,
    districts_seen,
    my_measures,
    workflows_of,
)
from portal.web.case_views import label
from portal.workflows import Actor

FILTERS = ("state", "district", "measure", "track")


@dataclass(frozen=True)
class QueueFilter:
    """The queue's query string; empty means any. A FastAPI dependency (`Depends()`).

    `sort` is one of due/submitted/amount/stage and `dir` asc/desc; anything else falls back
    to the default (soonest deadline first) rather than failing, since these come from URLs
    people bookmark. `after` is the cursor of the page to show.
    """

    q: str = ""
    state: str = ""
    district: str = ""
    measure: str = ""
    track: str = ""
    holder: str = ""
    sort: str = "due"
    dir: str = "asc"
    after: str = ""

    def query(self) -> QueueQuery:
        sort: SortKey = next((k for k in SORT_KEYS if k == self.sort), "due")
        holder: Holder = next((h for h in HOLDERS if h == self.holder), "")
        return QueueQuery(
            q=self.q[:100], state=self.state, district=self.district, measure=self.measure,
            track=self.track, holder=holder, sort=sort, descending=self.dir == "desc", after=self.after[:200],
        )  # fmt: skip

    def chosen(self) -> dict[str, str]:
        """The filters, search and sort (not the page): what a saved view and the exports keep."""
        values = {"q": self.q, **{name: getattr(self, name) for name in FILTERS}}
        query = self.query()
        values["holder"] = query.holder
        values["sort"] = query.sort
        values["dir"] = "desc" if query.descending else "asc"
        return values

    def url(self, path: str = "/review", **changes: str) -> str:
        """This query on `path`, with `changes`; empty values are left out to keep links short."""
        values = {**self.chosen(), **changes}
        kept = {k: v for k, v in values.items() if v and (k, v) not in (("sort", "due"), ("dir", "asc"))}
        return f"{path}?{urlencode(kept)}" if kept else path


def filter_options(portal: Portal, actor: Actor, lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each filter with the (value, label) choices this actor works on, in the pack's order."""
    mine = my_measures(portal, actor)
    flows = workflows_of(mine)
    # Every stage of those workflows, not only the actor's own: the queue lists their cases
    # wherever they went next (a district's cases on notice, disbursed), and a filter finds them.
    # Workflows may name a stage alike (rejected): its labels are joined, one choice finds both.
    labels: dict[str, list[str]] = {}
    for name in flows:
        for state in portal.workflows[name].states:
            if state.kind != "draft":
                seen = labels.setdefault(state.name, [])
                if (text := label(state.label, lang)) not in seen:
                    seen.append(text)
    states = {name: (" / " if lang == "en" else "、").join(texts) for name, texts in labels.items()}
    measures = [(rule.id, rule.title.get(lang)) for rule in mine]
    theirs = districts_seen(portal, actor)
    districts = [
        (value, text)
        for value, text in portal.city.jurisdictions.options(lang)
        if theirs is None or value in theirs
    ]
    # One district or none leaves nothing to choose: the filter is not offered.
    return [
        ("state", list(states.items())),
        *([("district", districts)] if len(districts) > 1 else []),
        ("measure", measures),
        ("track", portal.city.tracks.options(lang)),
    ]
