"""Prefill answers from the enterprise profile so an applicant never retypes a known fact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portal.forms.model import FormSpec


def prefill_answers(spec: FormSpec, profile_facts: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Answers for every field whose `prefill: entity.fact` is present in the profile.

    `profile_facts` has the FACTS.json shape, keyed by entity. Dates become ISO strings because
    date answers are strings in the schema (`format: date`); other values pass through typed.
    """
    answers: dict[str, Any] = {}
    for f in spec.fields.values():
        if f.prefill is None:
            continue
        entity, _, fact = f.prefill.partition(".")
        value = profile_facts.get(entity, {}).get(fact)
        if value is None:
            continue
        answers[f.name] = value.isoformat() if isinstance(value, dt.date) else value
    return answers
