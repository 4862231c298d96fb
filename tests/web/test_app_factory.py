"""The uvicorn factory leaves the app's long-lived objects out of the collector's walks (issue 14).

A full collection over the loaded pack, forms and templates took about 90 ms, long enough to
stall every request in flight; `gc.freeze()` after building the app moves them aside. Run in a
fresh interpreter, because freezing is process-wide.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_PROBE = "import gc; from portal.web.app import make_app; make_app(); print(gc.get_freeze_count())"


def test_make_app_freezes_what_lives_as_long_as_the_process(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_SECRET_KEY": "factory-test-secret",
    }
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert int(probe.stdout.strip().splitlines()[-1]) > 10_000
