"""Batch screening: read enterprise facts in bulk, evaluate compiled rules in SQL, write results.

A library user reads a register with `read_input` (CSV, Parquet, JSON Lines) or `read_table`
(an Arrow table, so a pandas or polars DataFrame), opens an engine with `open_engine` and calls
`screen`; `resolve_ref` and `compare` replay the same facts under two rule versions. Every rule
runs as one SQL statement compiled from its IR, with the scalar evaluator's semantics.

Pure with respect to the portal database: the `db:` input is provided by `portal.services`.
"""

from portal.screening.engines import EngineError, EngineName, open_engine
from portal.screening.impact import Flip, ImpactReport, RefError, RuleSet, compare, resolve_ref
from portal.screening.inputs import InputError, Reject, ScreeningInput, read_input, read_table
from portal.screening.run import ScreeningResult, screen

__all__ = [
    "EngineError",
    "EngineName",
    "Flip",
    "ImpactReport",
    "InputError",
    "RefError",
    "Reject",
    "RuleSet",
    "ScreeningInput",
    "ScreeningResult",
    "compare",
    "open_engine",
    "read_input",
    "read_table",
    "resolve_ref",
    "screen",
]
