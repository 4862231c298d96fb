"""The anchors of the HTTP rows of `bench/perf.py`: bare FastAPI endpoints doing only the minimum.

`POST /check` returns the bytes of BARE_BODY (the portal's own answer, captured first);
`POST /insert` commits one row into the SQLite file BARE_DB (WAL, synchronous=NORMAL,
as the portal configures it),
on a per-thread connection; `GET /healthz` answers as the portal's does.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from fastapi import FastAPI, Request, Response

app = FastAPI()
_BODY = Path(os.environ["BARE_BODY"]).read_bytes() if "BARE_BODY" in os.environ else b"{}"
_DB = os.environ.get("BARE_DB", ":memory:")
_local = threading.local()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/check")
async def check(request: Request) -> Response:
    await request.body()
    return Response(_BODY, media_type="application/json")


@app.post("/insert")
def insert() -> dict[str, int]:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(_DB, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, body TEXT)")
    with conn:
        row = conn.execute("INSERT INTO log (body) VALUES (?)", ("x" * 200,)).lastrowid
    return {"id": row or 0}
