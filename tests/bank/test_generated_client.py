"""A client generated from /openapi.json by an outside generator speaks the bank API, over HTTP.

openapi-python-client (run with `uv tool run`, pinned: it needs an older Typer than the portal,
so it cannot share the project's environment) generates a package from the served document
into tmp_path; the test imports it and calls the bank API on a real uvicorn server. Every answer
must come back typed: 200/201 as the response models, and 401, 403, 409, 422 and 429 as the one
`Problem` model, which proves that each error response is documented and refers to it.
"""

from __future__ import annotations

import importlib
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import uvicorn

from portal.web.ratelimit import SlidingWindowLimiter
from tests.bank.bank_world import BankWorld, loan

GENERATOR = "openapi-python-client==0.29.1"
CREDIT = "credit_risk_compensation"


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    assert Path(found).exists(), "uv is needed to run the client generator"
    return found


@pytest.fixture
def server(world: BankWorld) -> Iterator[str]:
    """The world's app served by uvicorn on a free loopback port; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        world.client.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    started = threading.Event()
    while not started.wait(0.05):
        if running.started:
            started.set()
        assert thread.is_alive(), "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join()


def _generate(base_url: str, tmp_path: Path) -> ModuleType:
    spec = tmp_path / "openapi.json"
    spec.write_bytes(httpx.get(f"{base_url}/openapi.json").content)
    config = tmp_path / "config.yaml"
    config.write_text("project_name_override: portal-client\npackage_name_override: portal_client\n")
    out = tmp_path / "generated"
    command = [_uv(), "tool", "run", "--from", GENERATOR, "openapi-python-client", "generate"]
    command += [
        "--path",
        str(spec),
        "--config",
        str(config),
        "--meta",
        "none",
        "--output-path",
        str(out / "portal_client"),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Unable to" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(out))
    for name in [m for m in sys.modules if m == "portal_client" or m.startswith("portal_client.")]:
        del sys.modules[name]
    return importlib.import_module("portal_client")


def _api(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.api.bank.{name}")


def _model(package: ModuleType, name: str) -> Any:
    return getattr(importlib.import_module(f"{package.__name__}.models"), name)


def test_a_generated_client_gets_typed_answers(world: BankWorld, server: str, tmp_path: Path) -> None:
    package = _generate(server, tmp_path)
    try:
        _exercise(package, world, server)
    finally:
        sys.path.remove(str(tmp_path / "generated"))


def _exercise(package: ModuleType, world: BankWorld, server: str) -> None:
    client_module = importlib.import_module(f"{package.__name__}.client")
    bank = client_module.AuthenticatedClient(base_url=server, token=world.key)
    read_only = client_module.AuthenticatedClient(base_url=server, token=world.read_key)
    anonymous = client_module.Client(base_url=server)
    problem = _model(package, "Problem")
    eligibility = _api(package, "eligibility_api_v1_bank_eligibility_post")
    register = _api(package, "register_api_v1_bank_loans_post")
    get_loan = _api(package, "get_loan_api_v1_bank_loans_loan_id_get")
    check_body = eligibility.EligibilityApiV1BankEligibilityPostEligibilityRequest.from_dict(
        {"uscc": world.uscc, "product": CREDIT, "loan": loan()}
    )

    checked = eligibility.sync_detailed(client=bank, body=check_body)
    assert checked.status_code == 200 and isinstance(checked.parsed, _model(package, "EligibilityResponse"))
    registration = register.RegisterApiV1BankLoansPostLoanRegistration.from_dict(
        {
            "uscc": world.uscc,
            "product": CREDIT,
            "amount": "3000000",
            "granted_on": "2026-11-27",
            "term_months": 24,
            "query_id": str(checked.parsed.query_id),
        }
    )
    created = register.sync_detailed(client=bank, body=registration)
    assert created.status_code == 201 and isinstance(created.parsed, _model(package, "LoanStatus"))
    read = get_loan.sync_detailed(created.parsed.id, client=bank)
    assert read.status_code == 200 and read.parsed.id == created.parsed.id

    answers = {
        401: eligibility.sync_detailed(client=anonymous, body=check_body),
        403: register.sync_detailed(client=read_only, body=registration),
        409: register.sync_detailed(client=bank, body=registration),
        422: get_loan.sync_detailed(0, client=bank),
    }
    world.client.app.state.bank_limiter = SlidingWindowLimiter(1, 60.0)  # type: ignore[attr-defined]
    get_loan.sync_detailed(created.parsed.id, client=bank)
    answers[429] = get_loan.sync_detailed(created.parsed.id, client=bank)
    for status, answer in answers.items():
        assert answer.status_code == status, (status, answer.content)
        assert isinstance(answer.parsed, problem), (status, type(answer.parsed))
        assert answer.parsed.status == status and answer.parsed.detail
