"""The self-check disclaimer (“results for reference only, the authority's decision prevails”) is
said where self-check results are shown, and nowhere else: not under a decision, a payment batch
or the public verification of a letter, which it would undermine."""

from __future__ import annotations

from html import unescape

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_helpers import client_of, login, portal_app, staff
from review_helpers import sweep_after, to_public_notice
from sqlmodel import col, select

from portal.db.tables import Decision, Letter
from portal.web.i18n import Translator
from tests.web.conftest import csrf_from

__all__ = ["portal_app"]


# The disclaimer's point, as the footer said it on every page before and the results say it now.
POINT = {"zh": "以主管部门审核结论为准", "en": "decision prevails"}


def _said(client: TestClient, lang: str, path: str) -> bool:
    client.cookies.set("lang", lang)
    response = client.get(path)
    assert response.status_code == 200, path
    return POINT[lang] in unescape(response.text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_disclaimer_goes_with_self_check_results_only(portal_app: FastAPI, lang: str) -> None:
    case = to_public_notice(portal_app)
    sweep_after(case.portal, 8)  # the notice closes: the case is approved and its letter issued
    with case.portal.reading() as session:
        letter = session.exec(
            select(Letter)
            .join(Decision, col(Decision.id) == Letter.decision_id)
            .where(col(Decision.application_id) == case.application_id)
        ).first()
    assert letter is not None
    public = client_of(portal_app)
    admin = client_of(portal_app)
    login(admin, staff(case.portal, "admin"))
    # A letter's public check, the decision on the enterprise's case, a reviewer's case, payments.
    assert not _said(public, lang, f"/verify/{letter.verification_code}")
    assert not _said(public, lang, "/notices?archived=true")
    assert not _said(public, lang, "/catalogue")  # no results shown to an anonymous visitor
    assert not _said(case.enterprise, lang, f"/applications/{case.application_id}")
    assert not _said(case.bureau, lang, f"/review/{case.application_id}")
    assert not _said(admin, lang, "/payments")
    assert not _said(public, lang, "/self-check")  # the form, before any result
    # Where results of a self-check are shown: the calculator's, and the signed-in catalogue's badges.
    public.cookies.set("lang", lang)
    token = csrf_from(public.get("/self-check").text)
    checked = public.post(
        "/self-check",
        data={"csrf_token": token, "on": case.portal.today().isoformat(), "enterprise.employees": "50"},
    )
    assert checked.status_code == 200 and 'class="badge badge-' in checked.text
    assert Translator(lang)("check.disclaimer") in unescape(checked.text) and POINT[lang] in checked.text
    assert _said(case.enterprise, lang, "/catalogue")
