"""The signed-in person's menu: only the pages they may open.

A page that a role's dependency admits but a service refuses for part of that role (a bureau's
reviewer and the district verifications, say) asks the service's own check here, so the menu
and the page cannot disagree.
"""

from portal.services import claims, payments, screening_runs, verification
from portal.services.context import Portal
from portal.workflows import Actor


def menu(portal: Portal, actor: Actor) -> list[tuple[str, str]]:
    """(path, message key) of each page of the actor's own menu, in the menu's order."""
    role = actor.role
    links = [
        ("/applications", "nav.my_applications", role == "enterprise"),
        ("/profile", "nav.profile", role == "enterprise"),
        ("/consents", "nav.consents", role == "enterprise"),
        ("/access-log", "nav.access_log", role == "enterprise"),
        ("/verification", "nav.verification", role == "enterprise"),
        ("/admin/users", "nav.admin_users", role == "admin"),
        ("/admin/banks", "nav.admin_banks", role == "admin"),
        ("/review", "nav.review_queue", role in ("reviewer", "admin")),
        ("/verifications", "nav.verifications", verification.may_verify(actor)),
        ("/claims", "nav.claims", claims.may_see_claims(actor)),
        ("/expert", "nav.expert_cases", role == "expert"),
        ("/supervision", "nav.supervision", role in ("supervisor", "admin")),
        ("/screening", "nav.screening", screening_runs.may_view(actor)),
        ("/payments", "nav.payments", payments.may_pay(portal, actor)),
        ("/inbox", "nav.inbox", role in ("enterprise", "reviewer", "expert")),
    ]
    return [(href, key) for href, key, shown in links if shown]
