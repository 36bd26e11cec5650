"""The ``coalition`` command: a thin shell over the library and the node API."""

from __future__ import annotations

import typer

from coalition.cli import (
    audit,
    component,
    dataset,
    demo,
    grant,
    job,
    ledger,
    model,
    node,
    partner,
    pir,
    psi,
    service,
    session,
    template,
    user,
    verify3,
    version,
)
from coalition.cli.exit_codes import ExitCode

__all__ = ["app", "main"]

app = typer.Typer(
    name="coalition",
    help="Coalition: federated learning where raw data never leaves its owner.",
    no_args_is_help=True,
    add_completion=True,
)
version.register(app)
psi.register(app)
pir.register(app)
demo.register(app)
node.register(app)
audit.register(app)
ledger.register(app)
component.register(app)
job.register(app)
model.register(app)
service.register(app)
session.register(app)
user.register(app)
partner.register(app)
dataset.register(app)
grant.register(app)
template.register(app)
verify3.register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        raise SystemExit(ExitCode.INTERRUPTED) from None
