"""Bounded integer parameters for the routes: row ids and versions as the database can hold them.

Ids and versions are 32-bit INTEGER columns on PostgreSQL, and SQLite cannot even bind a
Python int past 64 bits (it raised OverflowError, a 500). Declaring the range on the
parameter answers a hostile `/review/99999999999999999999` with a 422 before any query runs,
and publishes the range in /openapi.json.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Form, Path, Query

MAX_DB_INT: Final = 2**31 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_DB_INT)]
FormId = Annotated[int, Form(ge=1, le=MAX_DB_INT)]
FormVersion = Annotated[int, Form(ge=1, le=MAX_DB_INT)]
QueryVersion = Annotated[int, Query(ge=1, le=MAX_DB_INT)]
