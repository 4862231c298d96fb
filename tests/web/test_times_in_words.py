"""Instants read as the reader writes them, beside dates in words: one style per language.

On a pinned day, the reviewer's case page (its history and audit trail), the reviewer's inbox and
the enterprise's own case page say 2026年12月3日 12:00 in Chinese and December 3, 2026, 12:00 in
English, never the ISO-like stamp that CSV exports and the CLI keep.
"""

from __future__ import annotations

from datetime import date

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import client_of, enterprise_with_case, login, portal_app, staff

from tests.support.page_checks import visible_text

__all__ = ["portal_app"]

STAMPS = {"zh": "2026年12月3日 12:00", "en": "December 3, 2026, 12:00"}


def _main_text(client: TestClient, path: str, lang: str) -> str:
    client.get(f"/lang/{lang}")
    html = client.get(path).text
    return visible_text(html[html.index("<main") : html.index("</main>")])


def test_pages_and_the_inbox_print_instants_in_words(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    saved = portal.today_override
    portal.today_override = date(2026, 12, 3)  # the clock then reads noon of that day, Guangzhou time
    try:
        enterprise, case = enterprise_with_case(portal_app)
        reviewer = client_of(portal_app)
        login(reviewer, staff(portal, "reviewer", district="haizhu"))
        for lang, stamp in STAMPS.items():
            for client, path in (
                (reviewer, f"/review/{case}"),
                (reviewer, "/inbox"),
                (enterprise, f"/applications/{case}"),
            ):
                text = _main_text(client, path, lang)
                assert stamp in text, (lang, path, text[:3000])
                assert "2026-12-03" not in text, (lang, path)
    finally:
        portal.today_override = saved
