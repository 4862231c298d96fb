"""The enterprise's own case page after submission, over real HTTP on SQLite and PostgreSQL, zh and
en: a submission not judged eligible says why (the missing figures and each criterion's result,
from the trace stored with it), and the submission's time is when it was submitted."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from fastapi import FastAPI
from portal_helpers import client_of, portal_app, register, save_profile, stored, submitted_case
from sqlmodel import col, select

from portal.db.tables import ApplicationAnswers
from portal.services.context import Portal
from portal.web.i18n import Translator
from tests.support.page_checks import visible_text

__all__ = ["portal_app"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_submission_needing_more_information_says_which_figures_were_missing(
    portal_app: FastAPI, lang: str
) -> None:
    portal: Portal = portal_app.state.portal
    t = Translator(lang)
    client = client_of(portal_app)
    _, code = register(client)
    # No AI R&D spend, AI revenue or certified AI staff: the rule's "any one of" cannot be judged.
    save_profile(
        client,
        **{"enterprise.ai_rd_expense": "", "enterprise.ai_revenue": "", "enterprise.certified_ai_staff": ""},
    )
    application_id = submitted_case(client, code)
    case = stored(portal_app, application_id)
    assert case.eligibility_outcome == "undetermined"
    client.cookies.set("lang", lang)
    page = client.get(f"/applications/{application_id}").text
    assert 'id="eligibility-explained"' in page
    text = visible_text(page)
    labels = [
        portal.pack.facts.get(f"enterprise.{name}").label.get(lang)
        for name in ("ai_rd_expense", "ai_revenue")
    ]
    assert all(label in text for label in labels)
    assert t("app.eligibility_next_undetermined") in text
    assert html.escape(t("outcome.unknown")) in page  # each criterion's result, as the self-check shows it
    assert "ai_rd_expense" not in text and "enterprise." not in text


def test_an_eligible_submission_has_no_explanation_and_shows_its_submission_time(portal_app: FastAPI) -> None:
    portal: Portal = portal_app.state.portal
    client = client_of(portal_app)
    _, code = register(client)
    save_profile(client)
    application_id = submitted_case(client, code)
    case = stored(portal_app, application_id)
    assert case.eligibility_outcome == "eligible" and case.submitted_at is not None
    # The answers were last saved well before they were sent: the page gives when they were sent.
    with portal.transaction() as session:
        for answers in session.exec(
            select(ApplicationAnswers).where(col(ApplicationAnswers.application_id) == application_id)
        ):
            answers.created_at = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
            session.add(answers)
    page = client.get(f"/applications/{application_id}").text
    assert 'id="eligibility-explained"' not in page
    text = visible_text(page)
    assert portal.clock.in_words(case.submitted_at, "zh") in text and "2026年3月1日" not in text
