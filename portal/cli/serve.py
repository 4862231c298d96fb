"""`portal serve`: run the web portal under uvicorn, through the app factory.

The factory reads settings from the environment when uvicorn starts the app, so the same
command works with `--reload`-free supervisors and in containers alike.

The listening socket is bound here, with its protocol named (IPPROTO_TCP): asyncio sets
TCP_NODELAY on accepted connections only when the listener says it is TCP, and the socket
uvicorn's supervisor binds for `--workers N` does not (Kludex/uvicorn#3149), which costs every
response a delayed-ACK round (~40 ms) under keep-alive. One worker and N workers share the path.

uvicorn runs on uvloop and httptools (both dependencies): with asyncio's accept loop the worker
that woke first took a whole burst of keep-alive connections, so two workers served 0.99× of
one; libuv spreads them, and two workers serve 1.9× (docs/performance.md).
"""

import ipaddress
import os
import secrets
import socket
from typing import Annotated

import typer

from portal.cli.bootstrap import fail, pack_errors, settings
from portal.cli.demo import print_logins, seed_configured


def _reachable(host: str) -> str:
    """The host part of a URL a browser can open: a wildcard (0.0.0.0, ::) is no address to visit."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a host name
        return host
    if address.is_unspecified:
        return "127.0.0.1"
    return f"[{host}]" if address.version == 6 else host


def _demo_environment(host: str, port: int) -> None:
    """What a demo needs that an operator would otherwise set, handed on to every worker process.

    A key for this run when none is set, and, unless PORTAL_PUBLIC_BASE_URL is set, this server's
    own address, so the seeded letters' verification links and QR codes reach this demo.
    """
    from portal.settings import get_settings

    if settings().secret_key is None:
        os.environ["PORTAL_SECRET_KEY"] = secrets.token_urlsafe(32)
    os.environ.setdefault("PORTAL_PUBLIC_BASE_URL", f"http://{_reachable(host)}:{port}")
    get_settings.cache_clear()


def serve(
    host: Annotated[str, typer.Option(metavar="HOST", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(metavar="N", min=1, help="Worker processes.")] = 1,
    healthcheck_timeout: Annotated[
        int,
        typer.Option(
            "--healthcheck-timeout",
            metavar="SECONDS",
            min=1,
            help="Seconds a worker may take to start and to answer the supervisor's health check.",
        ),
    ] = 30,
    demo: Annotated[
        bool, typer.Option("--demo", help="Seed the demo data first (once) and print the demo logins.")
    ] = False,
) -> None:
    """Serve the portal (pages, /api/v1, /healthz, /readyz) on http://HOST:PORT.

    With PORTAL_JOBS=in-process (the SQLite default) it also runs the SLA sweep and the e-mail outbox.
    """
    import uvicorn

    from portal.web.app import make_app

    if settings().jobs_runner == "worker" and not settings().database_url.startswith("postgres"):
        raise fail("cannot start: PORTAL_JOBS=worker needs a PostgreSQL DATABASE_URL (unset it on SQLite)", 2)
    if settings().secret_key is None and not demo:
        raise fail("cannot start: set PORTAL_SECRET_KEY (one key shared by every instance and worker)", 2)
    if demo:
        _demo_environment(host, port)
        print_logins(seed_configured(settings()), f"http://{host}:{port}")
    try:
        # Build the app here so a broken pack is reported as a message, not a worker traceback.
        app = make_app()
    except pack_errors() as exc:
        raise fail(f"cannot start: {exc}", 2) from None
    # The same proxy trust on every path: X-Forwarded-For counts only from the listed proxies.
    trusted = settings().trusted_proxies or None
    config = uvicorn.Config(
        app if workers == 1 else "portal.web.app:make_app",  # each worker builds its own app
        factory=workers > 1,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
        timeout_worker_healthcheck=healthcheck_timeout,
        # The app configured the JSON logs (make_app); uvicorn's own config would replace them.
        log_config=None,
        log_level=settings().log_level,
        access_log=settings().access_log,
    )
    try:
        listener = tcp_listener(host, port)
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 2) from None
    jobs = None
    if settings().jobs_runner == "in-process":
        from portal.jobs.in_process import InProcessJobs

        jobs = InProcessJobs(app.state.portal)  # one thread in this process, however many workers
        jobs.start()
    try:
        if workers == 1:
            uvicorn.Server(config).run(sockets=[listener])
        else:
            from uvicorn.supervisors import Multiprocess

            Multiprocess(config, sockets=[listener]).run()
    finally:
        if jobs is not None:
            jobs.stop()


def tcp_listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket whose accepted connections get TCP_NODELAY (see the module doc)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.set_inheritable(True)  # the worker processes serve it too
    return listener
