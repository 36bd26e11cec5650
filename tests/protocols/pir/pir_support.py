"""Shared helpers of the PIR tests."""

from coalition.core import Party
from coalition.protocols.pir import PirTable, TableSettings, run_client, run_server
from coalition.testing import run_parties

CLIENT, SERVER = Party.guest("bank"), Party.host("telco")
MODES = ["download", "bucketed", "ot_decoys"]


def build(n=300, *, payload_bytes=32, bucket_bits=3, path=None, ids=None, payloads=None):
    table = PirTable(TableSettings("risk-scores", payload_bytes, bucket_bits=bucket_bits), path)
    ids = ids if ids is not None else [f"cust-{i:05d}" for i in range(n)]
    payloads = payloads if payloads is not None else [f"score={i % 97}".encode() for i in range(n)]
    table.sync(ids, payloads)
    return table


def query(table, ids, *, mode="download", controls=None, rec=None, cache=None, key=None,
          table_id=None, **params):
    p = {"mode": mode, "decoys": 8, **params}
    out = run_parties(
        {CLIENT: lambda ctx: run_client(ctx, ids, server_key=key or table.verify_key, params=p,
                                        cache=cache, table_id=table_id),
         SERVER: lambda ctx: run_server(ctx, table, controls=controls)},
        wrap=rec.wrap if rec else None, timeout=30)
    return out[CLIENT], out[SERVER]
