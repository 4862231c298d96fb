"""A case only its holder can take says so, rather than offering an empty 交给 list and a 转交 button.

Its own module: the database is the module's, so the district has exactly the reviewers made here.
"""

from __future__ import annotations

from fastapi import FastAPI
from portal_helpers import client_of, csrf_of, enterprise_with_case, login, portal_app, staff

__all__ = ["portal_app"]

NOBODY = {
    "zh": "本单位暂无其他可接手的审核人员。",
    "en": "No other reviewer of your unit can take this case.",
}


def test_a_case_nobody_else_can_take_says_so_instead_of_an_empty_choice(portal_app: FastAPI) -> None:
    portal = portal_app.state.portal
    _, case = enterprise_with_case(portal_app)
    only = client_of(portal_app)
    login(only, staff(portal, "reviewer", district="haizhu"))
    page, assign = f"/review/{case}", f'action="/review/{case}/assign"'
    assert assign in only.get(page).text  # unheld, it may be given to its one reviewer
    claimed = only.post(f"{page}/claim", data={"csrf_token": csrf_of(only, page)}, follow_redirects=False)
    assert claimed.status_code == 303
    for lang, sentence in NOBODY.items():
        only.cookies.set("lang", lang)
        html = only.get(page).text
        assert sentence in html and assign not in html, lang
    staff(portal, "reviewer", district="haizhu")  # a colleague joins: the choice is back
    html = only.get(page).text
    assert assign in html and NOBODY["en"] not in html
