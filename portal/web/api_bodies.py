"""The request bodies of the applications API, as published in /openapi.json.

The routes read their bodies by hand (`portal.web.json_body.read_object`, exact decimals), so
these models are the contract a client is generated from. They list the members each route
accepts (anything else is a 422), as `tests/bank/test_openapi_fuzz.py` checks against the routes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from portal.web.params import MAX_DB_INT

Version = Annotated[int, Field(ge=1, le=MAX_DB_INT, description="The version the change is based on")]
Lang = Literal["zh", "en"]


class NewApplication(BaseModel):
    """Start a draft for one measure."""

    model_config = ConfigDict(extra="forbid")
    measure_id: str


class AnswersUpdate(BaseModel):
    """Draft answers by field name; partial answers are fine."""

    model_config = ConfigDict(extra="forbid")
    answers: dict[str, Any]
    expected_version: Version
    lang: Lang | None = None


class Submission(BaseModel):
    """Submit (or resubmit after amendment) the latest answers."""

    model_config = ConfigDict(extra="forbid")
    expected_version: Version
    lang: Lang | None = None


class TransitionRequest(BaseModel):
    """Fire a review event; `sections` names the sections reopened by a return for amendment."""

    model_config = ConfigDict(extra="forbid")
    event: str
    expected_version: Version
    comment: Annotated[str, Field(max_length=2000)] | None = None
    sections: list[str] = []
