"""The real forms/ directory, loaded once."""

from pathlib import Path

import pytest

from portal.forms import FormSpec, load_forms

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="session")
def forms() -> dict[str, FormSpec]:
    return load_forms(REPO / "forms")


@pytest.fixture(scope="session")
def hte(forms: dict[str, FormSpec]) -> FormSpec:
    return forms["tax.high_tech_enterprise"]
