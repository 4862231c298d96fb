"""`portal serve`: run the web portal under uvicorn, through the app factory.

The factory reads settings from the environment when uvicorn starts the app, so the same
command works with `--reload`-free supervisors and in containers alike.
"""

import os
import secrets
from typing import Annotated

import typer

from portal.cli.bootstrap import fail, pack_errors, settings
from portal.cli.demo import print_logins, seed_configured


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo", help="Seed the demo data first (once) and print the demo logins.")
    ] = False,
) -> None:
    """Serve the portal (pages, /api/v1, /healthz, /readyz) on http://HOST:PORT."""
    import uvicorn

    from portal.web.app import make_app

    if settings().secret_key is None:
        if not demo:
            raise fail("cannot start: set PORTAL_SECRET_KEY (one key shared by every instance and worker)", 2)
        # A demo gets a key for this run; the environment hands it to every worker process.
        os.environ["PORTAL_SECRET_KEY"] = secrets.token_urlsafe(32)
        from portal.settings import get_settings

        get_settings.cache_clear()
    if demo:
        print_logins(seed_configured(settings()), f"http://{host}:{port}")
    try:
        # Build the app here so a broken pack is reported as a message, not a worker traceback.
        app = make_app()
    except pack_errors() as exc:
        raise fail(f"cannot start: {exc}", 2) from None
    # The same proxy trust on every path: X-Forwarded-For counts only from the listed proxies.
    trusted = settings().trusted_proxies or None
    if workers == 1:
        uvicorn.run(app, host=host, port=port, proxy_headers=bool(trusted), forwarded_allow_ips=trusted)
    else:
        # Each worker process builds its own app through the factory.
        uvicorn.run(
            "portal.web.app:make_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=bool(trusted),
            forwarded_allow_ips=trusted,
        )
