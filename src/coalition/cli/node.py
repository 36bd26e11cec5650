"""``coalition node``: create a node home, run it, export its identity for partners, back it
up and restore it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from coalition.cli.common import fail
from coalition.core.errors import CoalitionError

__all__ = ["register"]

Home = Annotated[Path, typer.Argument(help="Node home (made by `coalition node init`).")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def register(app: typer.Typer) -> None:
    """Add the ``node`` command group to ``app``."""
    group = typer.Typer(help="Run this organisation's node.", no_args_is_help=True)
    app.add_typer(group, name="node")

    @group.command("init")
    def init(
        home: Home,
        name: Annotated[str, typer.Option("--name", help="Organisation name, e.g. bank.")],
        *,
        api_port: Annotated[int | None, typer.Option(help="User API port (8470).")] = None,
        peer_port: Annotated[int | None, typer.Option(help="Peer endpoint port (8471).")] = None,
        peer_address: Annotated[str | None, typer.Option(
            help="host:port partners dial, if not the peer host and port.")] = None,
        data_dir: Annotated[list[Path] | None, typer.Option(
            help="Folder datasets may be registered from (repeatable).")] = None,
        auditor: Annotated[str | None, typer.Option(
            help="Also create the first auditor (later ones need a second approval).")] = None,
        as_json: AsJson = False,
    ) -> None:
        """Create a node home and its first admin (and auditor); passwords are printed once."""
        try:
            from coalition.node.home import init_node

            result = init_node(home, name, api_port=api_port, peer_port=peer_port,
                               peer_address=peer_address,
                               data_dirs=[d.resolve() for d in data_dir] if data_dir else None,
                               auditor_username=auditor)
        except CoalitionError as exc:
            raise fail(exc) from None
        info: dict[str, str | None] = {
            "home": str(home), "name": name, "fingerprint": result.fingerprint,
            "admin_username": result.admin_username, "admin_password": result.admin_password}
        if result.auditor_username:
            info |= {"auditor_username": result.auditor_username,
                     "auditor_password": result.auditor_password}
        if as_json:
            typer.echo(json.dumps(info))
            return
        typer.echo(f"node {name} created in {home}")
        typer.echo(f"certificate fingerprint: {result.fingerprint}")
        typer.echo(f"admin user: {result.admin_username}")
        typer.echo(f"admin password (shown once, store it now): {result.admin_password}")
        if result.auditor_username:
            typer.echo(f"auditor user: {result.auditor_username}")
            typer.echo(f"auditor password (shown once, give it to the auditor): "
                       f"{result.auditor_password}")

    @group.command("start")
    def start(
        home: Home,
        host: Annotated[str | None, typer.Option(help="User API bind address.")] = None,
        port: Annotated[int | None, typer.Option(help="User API port.")] = None,
        peer_port: Annotated[int | None, typer.Option(help="Peer endpoint port.")] = None,
    ) -> None:
        """Run the user API and the peer endpoint until SIGTERM/SIGINT."""
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        try:
            from coalition.node.logs import configure_logging
            from coalition.node.server import run_node
            from coalition.node.settings import NodeSettings

            settings = NodeSettings.load(home, api_host=host, api_port=port, peer_port=peer_port)
            configure_logging(settings.log_format, settings.log_level, settings.name)
            run_node(settings)
        except CoalitionError as exc:
            raise fail(exc) from None

    @group.command("export-identity")
    def export_identity(
        home: Home,
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    ) -> None:
        """Write the partner bundle (name, address, certificate, fingerprint) partners import."""
        try:
            from coalition.node.identity import load_identity
            from coalition.node.partners.directory import BUNDLE_FORMAT
            from coalition.node.settings import NodeSettings

            settings = NodeSettings.load(home)
            identity = load_identity(settings.identity_dir)
        except CoalitionError as exc:
            raise fail(exc) from None
        bundle = json.dumps({
            "format": BUNDLE_FORMAT, "name": settings.name,
            "address": settings.advertised_peer_address, "fingerprint": identity.fingerprint,
            "certificate_pem": identity.cert_pem.decode(),
        }, indent=2)
        if out is None:
            typer.echo(bundle)
        else:
            out.write_text(bundle + "\n", encoding="utf-8")
            typer.echo(f"wrote {out} (fingerprint {identity.fingerprint})")

    @group.command("backup")
    def backup(
        home: Home,
        out: Annotated[Path, typer.Argument(help="New folder for the backup.")],
        as_json: AsJson = False,
    ) -> None:
        """Back up database, keys, certificates, models and files (safe while the node runs)."""
        try:
            from coalition.node.backup import backup_node

            result = backup_node(home, out)
        except CoalitionError as exc:
            raise fail(exc) from None
        info = {"out": str(result.out), "node": result.name, "backend": result.backend,
                "revision": result.revision, "files": result.files}
        if as_json:
            typer.echo(json.dumps(info))
        else:
            typer.echo(f"backed up node {result.name} ({result.backend}, schema "
                       f"{result.revision}) to {result.out}: {result.files} files")

    @group.command("restore")
    def restore(
        backup_dir: Annotated[Path, typer.Argument(help="A folder made by `coalition node backup`.")],
        home: Annotated[Path, typer.Argument(help="New or empty folder for the node home.")],
        database_url: Annotated[str | None, typer.Option(
            help="Restore into this (empty) database instead of the backed-up URL.")] = None,
        as_json: AsJson = False,
    ) -> None:
        """Restore a backup, migrate it to this release's schema and verify its audit trail."""
        try:
            from coalition.node.backup import restore_node

            result = restore_node(backup_dir, home, database_url=database_url)
        except CoalitionError as exc:
            raise fail(exc) from None
        info = {"home": str(result.home), "node": result.name, "backend": result.backend,
                "backup_revision": result.backup_revision, "revision": result.revision,
                "audit_entries": result.audit_entries}
        if as_json:
            typer.echo(json.dumps(info))
        else:
            typer.echo(f"restored node {result.name} into {result.home}: schema "
                       f"{result.backup_revision} -> {result.revision}, "
                       f"{result.audit_entries} audit entries verified")
