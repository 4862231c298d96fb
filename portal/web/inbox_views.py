"""Notifications in the reader's language: a note with a message key is rendered from the message
catalogue, its parameters turned into words (a measure id into its title, a state into its stage's
label); a note written before keys existed shows the text it was stored with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal.db.tables import Notification
from portal.services.context import Portal
from portal.web.case_views import label, measure_title
from portal.web.i18n import Translator, catalogue


def _words(portal: Portal, params: Mapping[str, Any], lang: str) -> dict[str, object]:
    """Language-neutral parameters as words: `measure` → title, `state` (of `workflow`) → label."""
    words: dict[str, object] = dict(params)
    if params.get("measure") in portal.pack.measure_ids():
        words["measure"] = measure_title(portal.pack, str(params["measure"]), lang)
    workflow = portal.workflows.get(str(params.get("workflow", "")))
    state = params.get("state")
    if workflow is not None and state in {s.name for s in workflow.states}:
        words["state"] = label(workflow.state(str(state)).label, lang)
    return words


def note_view(portal: Portal, note: Notification, t: Translator) -> dict[str, Any]:
    """What the inbox shows of one note: title and body in `t`'s language where it can."""
    title, body = note.title, note.body
    if note.message and f"{note.message}.title" in catalogue():
        words = _words(portal, note.params or {}, t.lang)
        title, body = t(f"{note.message}.title", **words), t(f"{note.message}.body", **words)
    return {"id": note.id, "title": title, "body": body, "link": note.link, "read_at": note.read_at}
