"""The machine-readable decision embedded in every letter (PDF/A-3 associated file).

A bank or an archive reads this instead of parsing the printed page. Amounts are decimal
strings, never JSON numbers, because a JSON reader would turn them into binary floats.
Keys are sorted and the text is UTF-8 without escapes, so the same decision always gives
the same bytes and therefore the same PDF.
"""

from __future__ import annotations

import json
from typing import Any

from portal.documents.model import LetterData

SCHEMA = "portal.decision-letter/1"
ATTACHMENT_NAME = "decision.json"


def letter_data_dict(letter: LetterData) -> dict[str, Any]:
    """The decision as plain JSON-ready values (what `letter_json` serialises)."""
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "kind": letter.kind,
        "lang": letter.lang,
        "doc_number": letter.doc_number,
        "issued_on": letter.issued_on.isoformat(),
        "issuing_unit": {"zh": letter.issuing_unit_zh, "en": letter.issuing_unit_en},
        "enterprise": {"name": letter.enterprise_name, "uscc": letter.enterprise_uscc},
        "measure": {
            "id": letter.measure_id,
            "title": {"zh": letter.measure_title_zh, "en": letter.measure_title_en},
            "source": letter.measure_source,
        },
        "outcome": letter.outcome,
        "reasons": letter.reason_list,
        "benefit": [
            {
                "name": line.name,
                "label": {"zh": line.label_zh, "en": line.label_en},
                "amount": str(line.amount),
                "kind": line.kind,
            }
            for line in letter.benefits
        ],
        "granted_amount": str(letter.granted_amount) if letter.granted_amount is not None else None,
        "rule_hash": letter.rule_hash,
        "trace": [
            {
                "criterion_id": line.criterion_id,
                "kind": line.kind,
                "depth": line.depth,
                "outcome": line.outcome,
                "covered": line.covered,
                "message": {"zh": line.message_zh, "en": line.message_en},
                "source": line.source,
            }
            for line in letter.trace
        ],
        "verification_code": letter.verification_code,
        "verify_url": letter.verify_url,
        "supersedes_code": letter.supersedes_code,
    }
    if letter.subject is not None:  # only letters about a register entry have one
        document["subject"] = letter.subject
    if letter.supersedes_doc_number is not None:  # only a correction has one
        document["supersedes"] = {
            "doc_number": letter.supersedes_doc_number,
            "issued_on": letter.supersedes_issued_on.isoformat() if letter.supersedes_issued_on else None,
            "reason": letter.correction_reason,
        }
    if letter.payment is not None:  # only a disbursement notice has one
        document["payment"] = {
            "paid_on": letter.payment.paid_on.isoformat(),
            "bank_name": letter.payment.bank_name,
            "account": letter.payment.account_masked,
        }
    return document


def letter_json(letter: LetterData) -> str:
    """The decision as canonical JSON text: sorted keys, UTF-8, amounts as strings."""
    return json.dumps(letter_data_dict(letter), ensure_ascii=False, sort_keys=True, indent=2)
