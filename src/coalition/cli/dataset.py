"""``coalition dataset``: register, inspect and share a node's datasets.

Every command takes ``--node``/``COALITION_NODE_URL`` and ``--token``/``COALITION_TOKEN`` and
prints a table, or the API's JSON with ``--json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from coalition.cli.common import (
    DEFAULT_NODE_URL,
    AsJson,
    NodeUrl,
    Token,
    echo_json,
    node_client,
    print_table,
)

__all__ = ["register"]

Name = Annotated[str, typer.Argument(help="Dataset name.")]
Partner = Annotated[str, typer.Argument(help="Partner name.")]
_KINDS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _datasets(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        echo_json(rows)
        return
    print_table("datasets", ("name", "kind", "rows", "id column", "label", "columns",
                             "shared with"),
                [(d["name"], d["kind"], d["row_count"], d["id_column"], d.get("label_column"),
                  len(d["columns"]), ", ".join(d["shared_with"]) or "-") for d in rows])


def _records(title: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0]) if rows else []
    print_table(title, columns, [[r.get(c) for c in columns] for r in rows])


def register(app: typer.Typer) -> None:
    """Add the ``dataset`` command group to ``app``."""
    group = typer.Typer(help="Datasets registered on a node.", no_args_is_help=True)
    app.add_typer(group, name="dataset")

    @group.command("list")
    def list_(node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False) -> None:
        """Every registered dataset."""
        with node_client(node, token) as client:
            _datasets(client.list_datasets(), as_json)

    @group.command("show")
    def show(name: Name, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
             as_json: AsJson = False) -> None:
        """One dataset: its schema, row count and partners it is shared with."""
        with node_client(node, token) as client:
            data = client.get_dataset(name)
        if as_json:
            echo_json(data)
            return
        _datasets([data], False)
        print_table(f"{name}: columns", ("column", "type"),
                    [(c["name"], c["type"]) for c in data["columns"]])

    @group.command("register")
    def register_(  # noqa: PLR0917 (typer maps each parameter to an option)
        name: Name,
        location: Annotated[str, typer.Argument(help="File path on the node (inside its data "
                                                "folders), or a database URL for --kind sql.")],
        id_column: Annotated[str, typer.Option(help="The column that identifies a row.")],
        kind: Annotated[str | None, typer.Option(help="csv, parquet or sql (default: from "
                                                 "the file's suffix).")] = None,
        label_column: Annotated[str | None, typer.Option(help="The label, if any.")] = None,
        table: Annotated[str | None, typer.Option(help="Table, for --kind sql.")] = None,
        description: Annotated[str, typer.Option(help="What the data is.")] = "",
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Register a dataset; the node reads its schema and row count."""
        kind = kind or _KINDS.get(Path(location).suffix.lower(), "csv")
        with node_client(node, token) as client:
            out = client.register_dataset(name, kind, location, id_column=id_column,
                                          label_column=label_column, table=table,
                                          description=description)
        _datasets([out], as_json)

    @group.command("remove")
    def remove(name: Name, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "") -> None:
        """Unregister a dataset (the data itself is left alone)."""
        with node_client(node, token) as client:
            client.remove_dataset(name)
        typer.echo(f"dataset {name} removed")

    @group.command("preview")
    def preview(name: Name, limit: Annotated[int, typer.Option(help="Rows.")] = 20,
                node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                as_json: AsJson = False) -> None:
        """The first rows (owners only: they never leave the node)."""
        with node_client(node, token) as client:
            out = client.preview_dataset(name, limit)
        if as_json:
            echo_json(out)
        else:
            _records(f"{name}: first rows", out["rows"])

    @group.command("stats")
    def stats(name: Name, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
              as_json: AsJson = False) -> None:
        """Column statistics (owners only)."""
        with node_client(node, token) as client:
            out = client.dataset_stats(name)
        if as_json:
            echo_json(out)
        else:
            _records(f"{name}: statistics", out["columns"])

    @group.command("share")
    def share(name: Name, partner: Partner, node: NodeUrl = DEFAULT_NODE_URL,
              token: Token = "") -> None:
        """Make a dataset visible to a partner (it may then ask for grants on it)."""
        with node_client(node, token) as client:
            client.share_dataset(name, partner)
        typer.echo(f"dataset {name} shared with {partner}")

    @group.command("unshare")
    def unshare(name: Name, partner: Partner, node: NodeUrl = DEFAULT_NODE_URL,
                token: Token = "") -> None:
        """Hide a dataset from a partner."""
        with node_client(node, token) as client:
            client.unshare_dataset(name, partner)
        typer.echo(f"dataset {name} no longer shared with {partner}")
