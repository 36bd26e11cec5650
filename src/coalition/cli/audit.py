"""``coalition audit``: verify or export a node's hash-chained audit trail offline."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from coalition.cli.exit_codes import ExitCode
from coalition.core.errors import CoalitionError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command group to ``app``."""
    group = typer.Typer(help="Check a node's audit trail.", no_args_is_help=True)
    app.add_typer(group, name="audit")

    @group.command("verify")
    def verify(
        home: Annotated[Path, typer.Argument(help="Node home.")],
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Check the chain, its MACs and the signed checkpoint; exit 1 naming the first bad entry."""
        from coalition.node.audit.tools import verify_home

        try:
            result = verify_home(home)
        except CoalitionError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(ExitCode.INPUT) from None
        if as_json:
            typer.echo(json.dumps({"ok": result.ok, "checked": result.checked, "head": result.head,
                                   "first_bad": result.first_bad, "reason": result.reason,
                                   "checkpoint": result.checkpoint, "legacy": result.legacy}))
        elif result.ok:
            typer.echo(f"audit trail intact: {result.checked} entries, head {result.head}, "
                       f"signed checkpoint at entry {result.checkpoint}"
                       + (f" ({result.legacy} entries from before the key)" if result.legacy else ""))
        else:
            typer.echo(f"audit trail BROKEN at entry {result.first_bad}: {result.reason} "
                       f"({result.checked} entries verified before it)", err=True)
        if not result.ok:
            raise typer.Exit(ExitCode.FAILED)

    @group.command("accept")
    def accept(
        home: Annotated[Path, typer.Argument(help="Node home (node stopped).")],
        reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the trail).")],
    ) -> None:
        """After investigating, accept a truncated trail or a lost checkpoint and re-sign it.

        Entries that fail their hash, link or MAC are never accepted.
        """
        from coalition.node.audit.tools import accept_home

        try:
            result = accept_home(home, reason)
        except CoalitionError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(ExitCode.FAILED) from None
        if not result.ok:
            typer.echo(f"audit trail still BROKEN: {result.reason}", err=True)
            raise typer.Exit(ExitCode.FAILED)
        typer.echo(f"accepted: {result.checked} entries, signed checkpoint at entry "
                   f"{result.checkpoint}")

    @group.command("export")
    def export(
        home: Annotated[Path, typer.Argument(help="Node home.")],
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Write JSON lines here.")] = None,
    ) -> None:
        """Write every entry as JSON lines, in chain order."""
        from coalition.node.audit.tools import export_home

        try:
            lines = export_home(home)
        except CoalitionError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(ExitCode.INPUT) from None
        if out is None:
            for line in lines:
                typer.echo(line)
        else:
            # The trail names every user, partner and dataset: private whatever the shell's umask.
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write("".join(f"{line}\n" for line in lines))
            typer.echo(f"wrote {len(lines)} entries to {out}")
