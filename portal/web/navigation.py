"""The signed-in person's menu: only the pages they may open.

A page that a role's dependency admits but a service refuses for part of that role (a bureau's
reviewer and the district verifications, say) asks the service's own check here, so the menu
and the page cannot disagree.
"""

from portal.services import claims, payments, screening_runs, verification
from portal.services.context import Portal
from portal.workflows import Actor


def menu(portal: Portal, actor: Actor) -> list[tuple[str, str, bool]]:
    """(path, message key, less used) of each page of the actor's own menu, in the menu's order.

    A less-used page goes under the menu's 更多 (More), so that the menu keeps one row on a
    1,280-pixel screen.
    """
    role = actor.role
    enterprise = role == "enterprise"
    admin = role == "admin"
    links = [
        ("/applications", "nav.my_applications", enterprise, False),
        ("/profile", "nav.profile", enterprise, False),
        ("/consents", "nav.consents", enterprise, True),
        ("/access-log", "nav.access_log", enterprise, True),
        ("/verification", "nav.verification", enterprise, True),
        ("/admin/users", "nav.admin_users", admin, False),
        # An administrator adds a partner bank, screens or pays now and then; users daily.
        ("/admin/banks", "nav.admin_banks", admin, True),
        ("/review", "nav.review_queue", role in ("reviewer", "admin"), False),
        ("/verifications", "nav.verifications", verification.may_verify(actor), False),
        # An enterprise's own account requests are rare; a district's reviewers handle them daily.
        ("/claims", "nav.claims", claims.may_see_claims(actor), enterprise),
        ("/expert", "nav.expert_cases", role == "expert", False),
        ("/supervision", "nav.supervision", role in ("supervisor", "admin"), False),
        ("/screening", "nav.screening", screening_runs.may_view(actor), admin),
        ("/payments", "nav.payments", payments.may_pay(portal, actor), admin),
        ("/inbox", "nav.inbox", role in ("enterprise", "reviewer", "expert"), False),
    ]
    return [(href, key, more) for href, key, shown, more in links if shown]
