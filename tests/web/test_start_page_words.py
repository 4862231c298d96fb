"""What an enterprise reads before it applies, over real HTTP on SQLite and PostgreSQL, zh and en.

The start page (where a screening notice leads) says what the enterprise's own evaluation says,
as its catalogue card does: not "may qualify" whatever the rule found. A catalogue card that is
eligible but lacks a fact its amount depends on says that, not "still needed" under "what would
make it pass".
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from portal_helpers import client_of, portal_app, register, save_profile

from portal.services.context import Portal
from portal.web.i18n import Translator
from tests.support.page_checks import visible_text

__all__ = ["portal_app"]

FILING = "subsidy.algorithm_filing"
DEDUCTION = "tax.rd_super_deduction"


def _section(html: str, start: str, end: str) -> str:
    """The visible text of the first part of `html` from `start` up to the next `end`."""
    part = html[html.index(start) :]
    return visible_text(part[: part.index(end)])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_start_page_says_what_the_enterprises_own_evaluation_says(portal_app: FastAPI, lang: str) -> None:
    portal: Portal = portal_app.state.portal
    t = Translator(lang)
    filed = portal.pack.facts.get("enterprise.algorithm_filed").label.get(lang)
    client = client_of(portal_app)
    register(client)  # registered in the district the measure asks for
    client.cookies.set("lang", lang)

    def start() -> str:
        page = client.get(f"/applications/start?measure={FILING}")
        assert page.status_code == 200
        assert 'action="/applications"' in page.text  # applying stays open whatever the check says
        return visible_text(page.text)

    # No profile yet: it cannot be told, and the page names what is missing.
    text = start()
    assert t("start.no_profile") in text and t("badge.undetermined") in text and filed in text
    assert "可能符合" not in text and "may qualify" not in text

    # Not filed: not eligible, the failed condition in words, as on the catalogue card.
    save_profile(client, **{"enterprise.algorithm_filed": "false"})
    text = start()
    assert t("badge.ineligible") in text and t("start.ineligible") in text and filed in text
    card = client.get(f"/catalogue/{FILING}").text
    assert f'badge badge-ineligible">{t("badge.ineligible")}<' in card
    assert "algorithm_filed" not in text and FILING not in text

    # Filed: every criterion met, on the profile's version.
    save_profile(client)
    text = start()
    assert t("start.eligible", version=2) in text and t("badge.eligible") in text
    assert t("check.missing_label").strip() not in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_eligible_card_names_what_its_amount_still_depends_on(portal_app: FastAPI, lang: str) -> None:
    """Eligible, with the fact that picks the rate unknown: the engine asks for it only to work out
    the benefit, so the card says the amount depends on it and shows no "what would make it pass"."""
    portal: Portal = portal_app.state.portal
    t = Translator(lang)
    rate_fact = portal.pack.facts.get("enterprise.is_ic_or_machine_tool").label.get(lang)
    client = client_of(portal_app)
    register(client)
    save_profile(client, **{"enterprise.industry_section": "I", "enterprise.is_ic_or_machine_tool": ""})
    client.cookies.set("lang", lang)
    catalogue = client.get("/catalogue").text
    card = _section(catalogue, f'<a href="/catalogue/{DEDUCTION}">', "</li>")
    assert (
        t("badge.eligible") in card and t("check.amount_missing_label").strip() in card and rate_fact in card
    )
    assert t("check.missing_label").strip() not in card and t("check.hints") not in card
    measure = _section(client.get(f"/catalogue/{DEDUCTION}").text, 'id="badge-title"', "</section>")
    assert t("check.amount_missing_label").strip() in measure and rate_fact in measure
    assert t("check.hints") not in measure
