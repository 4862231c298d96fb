"""Field errors of the account-like forms (registration, staff accounts, a change of registration).

Their services name each problem by a code (`FieldProblem.code`); the page says it in the reader's
words from the `auth.error.<code>` messages, in the order the form shows its fields.
"""

from __future__ import annotations

from collections.abc import Sequence

from portal.services.errors import ValidationFailed
from portal.web.i18n import Translator


def worded_errors(failed: ValidationFailed, t: Translator, order: Sequence[str] = ()) -> dict[str, str]:
    """Each bad field's message in `t`'s language; with `order`, only those fields, in that order."""
    said = {p.path: t(f"auth.error.{p.code}", **p.params) for p in failed.errors}
    return {name: said[name] for name in order if name in said} if order else said
