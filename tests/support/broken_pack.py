"""`portal serve` started on a pack with a deliberate mistake, as an operator would start it."""

import os
import subprocess
import sys
from pathlib import Path


def serve_refusal(pack: Path, data: Path) -> tuple[int, str]:
    """The exit code and the one line `portal serve` prints on `pack`, before it binds a port."""
    env = {
        **os.environ,
        "PORTAL_PACK_DIR": str(pack),
        "PORTAL_SECRET_KEY": "k" * 40,
        "DATABASE_URL": f"sqlite:///{data / 'portal.db'}",
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "portal"), "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    (line,) = done.stderr.strip().splitlines()
    return done.returncode, line
