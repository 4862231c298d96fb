"""Notifications in the reader's language, with when they came and the case they are about.

The text is rendered by the service that also renders e-mails (`notifications.note_text`), so
the inbox and the mail say the same thing; a note written before keys shows its stored text.
"""

from __future__ import annotations

from typing import Any

from portal.db.tables import Notification
from portal.services.context import Portal
from portal.services.notifications import case_of, note_text
from portal.web.i18n import Translator


def note_view(portal: Portal, note: Notification, t: Translator, *, settled: bool = False) -> dict[str, Any]:
    """What the inbox shows of one note: its text in `t`'s language, local time, case reference.

    A `settled` work item reads as done and asks to be marked read no more.
    """
    title, body = note_text(portal, note, t.lang, settled=settled)
    case = case_of(note)
    return {
        "id": note.id,
        "title": title,
        "body": body,
        "link": note.link,
        "read_at": note.read_at,
        "settled": settled,
        "received": portal.clock.in_words(note.created_at, t.lang),
        "received_iso": portal.clock.local(note.created_at).isoformat(),
        "case": t("app.title", id=case) if case is not None else None,
    }
