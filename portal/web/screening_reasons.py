"""A rejected screening row's reason in the reader's language, naming facts by their labels.

The screening engine words a reason for the CLI's rejects file: `employees: not a whole number
(18\\u00070); revenue: negative money (-1)`, the column as uploaded (a fact name), the problem in
English and the value quoted with control characters escaped. A page and its CSV must not show
fact names, so each part is re-worded here: the fact's label, the problem from the catalogue,
the quoted value kept as it is. A part this module does not recognise is shown unchanged.
"""

from __future__ import annotations

import re
from typing import Final

from portal.rules.facts import FactDictionary
from portal.web.i18n import Translator

# The engine's phrases (portal.screening.inputs) → catalogue keys; longest first where one starts another.
_PHRASES: Final = (
    ("must not be negative", "negative"),
    ("negative money", "negative_money"),
    ("expected true or false", "not_bool"),
    ("not a whole number", "not_int"),
    ("not a decimal number", "not_decimal"),
    ("a share lies between 0 and 1", "not_share"),
    ("outside the allowed range", "out_of_range"),
    ("not a date (YYYY-MM-DD)", "not_date"),
    ("a control or bidi character", "control_char"),
    ("invalid USCC", "bad_uscc"),
)
_TOO_PRECISE: Final = re.compile(r"more than \d+ decimal places or too large")
_NOT_ONE_OF: Final = re.compile(r"not one of [^()]*?(?= \(|$)")
_VALUE: Final = re.compile(r"^ \((?P<value>.*)\)$", re.S)


def reworded(reason: str, facts: FactDictionary, t: Translator, default_entity: str = "enterprise") -> str:
    """`reason` with each `column: problem (value)` part in the reader's words."""
    headers = sorted(
        {name for spec in facts.specs.values() for name in (spec.qualified, spec.name)}, key=len, reverse=True
    )
    starts = re.compile(r"(?:^|; )(" + "|".join(re.escape(h) for h in headers) + "): ")
    marks = list(starts.finditer(reason))
    if not marks or marks[0].start() != 0:
        return reason
    parts = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        body = reason[mark.end() : following.start() if following else len(reason)]
        parts.append(_part(mark.group(1), body, facts, t, default_entity))
    return "；".join(parts) if t.lang == "zh" else "; ".join(parts)


def _part(header: str, body: str, facts: FactDictionary, t: Translator, default_entity: str) -> str:
    spec = facts.get(header) or facts.get(f"{default_entity}.{header}")
    label = spec.label.get(t.lang) if spec is not None else header
    key, rest = _problem(body)
    if key is None:
        return f"{label}: {body}"
    value = _VALUE.match(rest)
    problem = t(f"screening.reason.{key}")
    if value is None:
        return t("screening.reason.part", field=label, problem=problem) if not rest else f"{label}: {body}"
    return t("screening.reason.part_value", field=label, problem=problem, value=value.group("value"))


def _problem(body: str) -> tuple[str | None, str]:
    for phrase, key in _PHRASES:
        if body.startswith(phrase):
            return key, body[len(phrase) :]
    for pattern, key in ((_TOO_PRECISE, "too_precise"), (_NOT_ONE_OF, "not_allowed")):
        found = pattern.match(body)
        if found is not None:
            return key, body[found.end() :]
    return None, body
