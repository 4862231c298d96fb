from pathlib import Path

import pytest

from portal.rules import Pack, load_pack

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def pack() -> Pack:
    return load_pack(FIXTURES / "pack")
