"""`portal audit`: verify the hash chains, and sign checkpoints that catch truncation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from portal.cli.bootstrap import database, fail, run, settings
from portal.cli.inputs import refuse_hostile

if TYPE_CHECKING:
    from portal.db.chain import VerifyReport

app = typer.Typer(help="The tamper-evident logs.", no_args_is_help=True)


def _line(report: VerifyReport) -> str:
    if report.ok:
        return f"{report.chain}: ok, {report.checked} rows, head {report.head_hash}"
    return (
        f"{report.chain}: BROKEN at seq {report.first_broken_seq}: {report.reason} "
        f"({report.checked} rows intact before it)"
    )


@app.command("verify")
def verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="A checkpoint file (portal audit checkpoint --out); rows it names must be intact.",
        ),
    ] = None,
) -> None:
    """Check both hash chains from their first row; exit 1 and name the first broken link if any.

    With --checkpoint, also check that every row the signed checkpoint names is still there with
    the same hash: this catches deleted newest rows and a row rewritten with every hash after it.
    The signature is checked with PORTAL_AUDIT_PUBLIC_KEY (or the key of PORTAL_AUDIT_SIGNING_KEY).
    """
    problems = _checkpoint_problems(checkpoint) if checkpoint is not None else []
    from portal.db.access_log import verify_access_log
    from portal.db.audit import verify_chain
    from portal.db.engine import session_scope
    from portal.services.audit_crosscheck import crosscheck

    with database(doing="cannot read the logs") as engine, session_scope(engine) as session:
        reports = [verify_chain(session), verify_access_log(session)]
        # The working tables are checked against the chain only once the chain itself holds.
        mismatches = crosscheck(session) if all(report.ok for report in reports) else []
    for report in reports:
        typer.echo(_line(report), err=not report.ok)
    for mismatch in mismatches:
        typer.echo(f"tables: {mismatch}", err=True)
    if all(report.ok for report in reports) and not mismatches:
        typer.echo("tables: ok, cases, transitions, roles and consents agree with the audit chain")
    for problem in problems:
        typer.echo(f"checkpoint: {problem}", err=True)
    if checkpoint is not None and not problems:
        typer.echo(f"checkpoint: ok, every row it names is intact ({checkpoint})")
    if problems or mismatches or not all(report.ok for report in reports):
        raise typer.Exit(code=1)


def _trusted_public_key() -> str:
    from portal.services.audit_checkpoints import public_key_of

    config = settings()
    if config.audit_public_key:
        return config.audit_public_key
    if config.audit_signing_key is not None:
        return public_key_of(config.audit_signing_key.get_secret_value())
    raise fail("set PORTAL_AUDIT_PUBLIC_KEY (or PORTAL_AUDIT_SIGNING_KEY) to check a checkpoint", 2)


def _checkpoint_problems(path: Path) -> list[str]:
    from portal.services.audit_checkpoints import CheckpointError, check_against

    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise fail(f"{path}: cannot read the checkpoint: {exc}", 2) from None
    refuse_hostile(path, document)
    public_key = _trusted_public_key()
    try:
        return run(lambda portal: check_against(portal, document, public_key), doing="cannot read the logs")
    except CheckpointError as exc:
        raise fail(f"{path}: {exc}", 2) from None


@app.command("checkpoint")
def checkpoint(
    out: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Also write the signed checkpoint to this file.")
    ] = None,
) -> None:
    """Sign the heads of both chains with PORTAL_AUDIT_SIGNING_KEY, store and print the checkpoint.

    It is published at /audit/checkpoints/latest; keep copies outside the database.
    """
    from portal.services.audit_checkpoints import CheckpointError, write_checkpoint

    key = settings().audit_signing_key
    if key is None:
        raise fail("set PORTAL_AUDIT_SIGNING_KEY (portal audit keygen makes one)", 2)
    try:
        document = run(lambda portal: write_checkpoint(portal, key.get_secret_value()), doing="cannot sign")
    except CheckpointError as exc:
        raise fail(f"PORTAL_AUDIT_SIGNING_KEY: {exc}", 2) from None
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if out is not None:
        try:
            out.write_text(text + "\n", "utf-8")
        except OSError as exc:
            raise fail(f"{out}: cannot write: {exc.strerror}", 2) from None
    typer.echo(text)


@app.command("keygen")
def keygen() -> None:
    """Print a new Ed25519 key pair for checkpoints (the private key once; keep it in the secret store)."""
    from portal.services.audit_checkpoints import generate_keys

    keys = generate_keys()
    typer.echo(f"PORTAL_AUDIT_SIGNING_KEY={keys.private}")
    typer.echo(f"PORTAL_AUDIT_PUBLIC_KEY={keys.public}")
