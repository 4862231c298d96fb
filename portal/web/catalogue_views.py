"""The catalogue's view model: a service `Entry` in the reader's language, codes left behind.

Pages read titles, units' names, benefit labels and formatted amounts; the measure id appears
only in URLs and form values, never as text.
"""

from __future__ import annotations

from typing import Any

from portal.rules.display import format_threshold
from portal.services.catalogue import Entry
from portal.web.i18n import Translator


def entry_view(entry: Entry, t: Translator) -> dict[str, Any]:
    """One measure for the catalogue card and the measure page."""
    lang = t.lang
    rule = entry.rule
    offers = []
    for offer in entry.offers:
        shown = format_threshold(offer.amount, offer.kind, lang)
        offers.append(
            {
                "label": offer.label.get(lang) if offer.label is not None else t("catalogue.gives"),
                "amount": t("catalogue.up_to", amount=shown) if offer.up_to else shown,
            }
        )
    source = rule.source
    return {
        "id": rule.id,
        "title": rule.title.get(lang),
        "summary": rule.summary.get(lang) if rule.summary is not None else "",
        "who": rule.who.get(lang) if rule.who is not None else "",
        "category": rule.category,
        "auto_grant": rule.auto_grant,
        "offers": offers,
        "channel": entry.channel,
        "documents": [{"label": d.label.get(lang), "required": d.required} for d in entry.documents],
        "unit": entry.unit.get(lang) if entry.unit is not None else "",
        # The source's `note` is the pack maintainers' reasoning, written with fact names: not shown.
        "source": {"citation": source.citation(lang), "url": source.url},
        "effective_from": rule.effective_from,
        "effective_to": rule.effective_to,
    }
