"""tax.high_tech_enterprise as a GoRules JDM graph, for the zen-engine anchor of the benchmarks.

The revenue band is a decision table (hit policy first); the nine conditions are one
expression node. Facts arrive as JSON text, so numbers keep their decimal value. zen's
comparisons raise on null, hence the explicit `!= null` guards: a missing fact is "not eligible"
here, which counts the same as the portal's "undetermined" for the eligible total.
"""

import json

import zen

ON = "2026-06-30"

_CONDITION = " and ".join(
    [
        "hightech_certified == true",
        "registered_on != null",
        f'd("{ON}").diff(d(registered_on), "year") >= 1',
        "core_ip == true",
        "tech_in_key_fields == true",
        "employees != null and st_staff != null and employees > 0",
        "st_staff / employees >= 0.1",
        "revenue_3y != null and rd_expense_3y != null and revenue_3y > 0 and min_rd_ratio != null",
        "rd_expense_3y / revenue_3y >= min_rd_ratio",
        "rd_expense_domestic_3y != null and rd_expense_3y > 0",
        "rd_expense_domestic_3y / rd_expense_3y >= 0.6",
        "hightech_revenue != null and revenue > 0",
        "hightech_revenue / revenue >= 0.6",
        "innovation_score != null and innovation_score >= 71",
        "major_violation_last_year == false",
    ]
)

DECISION = {
    "nodes": [
        {"id": "in", "type": "inputNode", "name": "request", "position": {"x": 0, "y": 0}},
        {
            "id": "band",
            "type": "decisionTableNode",
            "name": "min_rd_ratio",
            "position": {"x": 200, "y": 0},
            "content": {
                "hitPolicy": "first",
                "passThrough": True,
                "inputs": [{"id": "revenue", "name": "revenue", "field": "revenue"}],
                "outputs": [{"id": "ratio", "name": "min_rd_ratio", "field": "min_rd_ratio"}],
                "rules": [
                    {"_id": "r1", "revenue": "<= 50000000", "ratio": "0.05"},
                    {"_id": "r2", "revenue": "(50000000..200000000]", "ratio": "0.04"},
                    {"_id": "r3", "revenue": "> 200000000", "ratio": "0.03"},
                ],
            },
        },
        {
            "id": "check",
            "type": "expressionNode",
            "name": "criteria",
            "position": {"x": 400, "y": 0},
            "content": {"expressions": [{"id": "e1", "key": "eligible", "value": _CONDITION}]},
        },
        {"id": "out", "type": "outputNode", "name": "response", "position": {"x": 600, "y": 0}},
    ],
    "edges": [
        {"id": "e-in-band", "sourceId": "in", "targetId": "band", "type": "edge"},
        {"id": "e-band-check", "sourceId": "band", "targetId": "check", "type": "edge"},
        {"id": "e-check-out", "sourceId": "check", "targetId": "out", "type": "edge"},
    ],
}


_CONTENT = zen.ZenDecisionContent(json.dumps(DECISION))


def loader(key: str) -> zen.ZenDecisionContent:
    """The ZenEngine loader: one decision, parsed once and served from memory.

    zen calls the loader on every `evaluate`; returning JSON text would re-parse the graph each
    time (measured ~7× slower here), which is not how anyone would deploy it.
    """
    if key != "high_tech.json":
        raise KeyError(key)
    return _CONTENT
