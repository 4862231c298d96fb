"""The Jinja2 environment of the printed documents (letters, payment batch lists).

Autoescape everything: enterprise names, payees and reviewers' comments are typed by people.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined


@cache
def document_environment() -> Environment:
    return Environment(
        loader=PackageLoader("portal.documents", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
