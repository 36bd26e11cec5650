"""PSI as a node service (issue 20): two node processes run a saved KKRT task; the anchor is
the same protocol on the same sets without nodes (``engine.direct.psi``, two processes over
gRPC + mTLS), measured in the same run.

    .venv/bin/python benchmarks/node_services.py --quick

``services.psi.100k``: ``ours`` = the node-run wall seconds of the run record (job created →
finished: proposal, consent, worker start, reading, PSI, derived dataset), ``protocol_only_s``
= the direct runner's wall seconds, ``ratio`` = protocol-only / node-run (the share of the
node-run time the protocol itself takes).

``services.pir.batch``: telco publishes a 100,000-row PIR service (download mode) from a
registered dataset, bank queries it with a 1,024-ID batch (half in the table) through its
``/api/v1/pir/query`` over the nodes' peer channel. ``ours`` = bank's client wall seconds per
batch (REST call in → answers out, median of 3 after a first batch that downloads the table),
``server_s`` = telco's seconds for the batch (its batch record); the anchor is the same batch
against the same rows with the protocol roles alone on the in-memory hub (table cached
likewise), ``ratio`` = protocol-only / node-run.

``services.verify3.batch``: 1,000 (phone, name, ID number) triples verified by the bank's node
against a service the telco's node published (two node processes, mTLS peer channel): ``ours``
= the bank's API call wall seconds with its copy of the tags current (one blinded OPRF round
trip), ``first_query_s`` the same with the tags downloaded first, ``protocol_only_s`` the same
batch between :func:`coalition.protocols.verify3.run_bank` and ``run_telco`` in one process
(in-memory hub, same table), ``ratio`` = protocol-only / node; ``publish_s`` the telco's build.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import emit, median_time

from coalition.core.ids import Party, Role
from coalition.demo.cluster import Cluster, start_cluster
from coalition.engine.direct.psi import PartyJob, free_port, mint_certs, run_local_pair
from coalition.protocols.verify3 import VerificationTable, run_bank, run_telco
from coalition.testing import run_parties


def _sets(n: int) -> tuple[list[str], list[str]]:
    shared = [f"{secrets.randbits(60):015x}" for _ in range(n // 2)]
    guest = shared + [f"g{secrets.randbits(60):015x}" for _ in range(n - len(shared))]
    host = shared + [f"h{secrets.randbits(60):015x}" for _ in range(n - len(shared))]
    return guest, host


def protocol_only(root: Path, guest_file: Path, host_file: Path) -> float:
    """Wall seconds of KKRT between two processes without nodes."""
    certs = root / "certs"
    mint_certs(certs)
    g, h = free_port(), free_port()
    common = {"column": "id", "certs": certs, "params": {"protocol": "kkrt"}, "case": "keep"}
    guest = PartyJob(role=Role.GUEST, ids_file=guest_file, out=root / "g.csv",
                     listen=f"127.0.0.1:{g}", peer=f"127.0.0.1:{h}", **common)  # type: ignore[arg-type]
    host = PartyJob(role=Role.HOST, ids_file=host_file, out=root / "h.csv",
                    listen=f"127.0.0.1:{h}", peer=f"127.0.0.1:{g}", **common)  # type: ignore[arg-type]
    start = time.perf_counter()
    run_local_pair(guest, host)
    return time.perf_counter() - start


def node_run(cluster: Cluster, guest_file: Path, host_file: Path) -> dict[str, float]:
    """Wall seconds of the same PSI as a node task (from its run record)."""
    cluster.register_dataset("bank", "customers", guest_file, id_column="id")
    cluster.register_dataset("telco", "subscribers", host_file, id_column="id")
    cluster.grant("telco", "subscribers", to="bank", kinds=["psi"])
    bank = cluster["bank"]
    bank.call("POST", "/psi/tasks", json={
        "name": "bench", "dataset": "customers", "key_column": "id", "partner": "telco",
        "partner_dataset": "subscribers", "protocol": "kkrt"})
    start = time.perf_counter()
    run = bank.call("POST", "/psi/tasks/bench/run")
    while run["finalised_at"] is None:
        time.sleep(0.2)
        run = bank.call("GET", f"/psi/runs/{run['id']}")
    client_s = time.perf_counter() - start
    if run["state"] != "succeeded":
        raise SystemExit(f"node run {run['state']}: {run['error']}")
    return {"wall_s": float(run["wall_s"]), "client_s": client_s,
            "intersection": float(run["intersection_size"])}


PIR_ROWS = 100_000
PIR_BATCH = 1_024


def _pir_rows(n: int) -> pd.DataFrame:
    ids = [f"1{3800000000 + i * 7:010d}" for i in range(n)]
    return pd.DataFrame({"msisdn": ids, "risk": [f"r{secrets.randbits(64):016x}" for _ in ids]})


def _pir_batch(ids: list[str]) -> list[str]:
    step = len(ids) // (PIR_BATCH // 2)
    hits = ids[::step][: PIR_BATCH // 2]
    return hits + [f"2{i:010d}" for i in range(PIR_BATCH - len(hits))]


def pir_protocol_only(frame: pd.DataFrame, batch: list[str], reps: int) -> float:
    """Median seconds of the batch with the roles alone (in-memory hub, table cached)."""
    from coalition.compute import ProcessExecutor
    from coalition.core import Party
    from coalition.protocols.pir import PirTable, TableSettings, run_client, run_server
    from coalition.protocols.psi import ClientTableCache
    from coalition.testing import run_parties

    cols = ["risk"]
    payloads = [json.dumps({"risk": r}, separators=(",", ":")).encode() for r in frame["risk"]]
    table = PirTable(TableSettings("telco/risk", 48, payload_format="json", columns=tuple(cols)))
    executor = ProcessExecutor(2)  # the build is not measured; the node builds on 2 workers too
    try:
        table.sync(frame["msisdn"].tolist(), payloads, executor=executor)
    finally:
        executor.shutdown()
    client, server = Party.guest("bank"), Party.host("telco")
    with tempfile.TemporaryDirectory(prefix="bench-pir-cache-") as cache_dir:
        cache = ClientTableCache(cache_dir)
        times = []
        for _ in range(reps + 1):
            start = time.perf_counter()
            run_parties({client: lambda ctx: run_client(ctx, batch, server_key=table.verify_key,
                                                        cache=cache),
                         server: lambda ctx: run_server(ctx, table)}, timeout=600)
            times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def pir_node_run(cluster: Cluster, data: Path, batch: list[str], reps: int
                 ) -> dict[str, float]:
    """Client wall and server seconds of the batch through two node processes."""
    cluster.register_dataset("telco", "pir_subscribers", data, id_column="msisdn")
    cluster.grant("telco", "pir_subscribers", to="bank", kinds=["pir"])
    bank, telco = cluster["bank"], cluster["telco"]
    start = time.perf_counter()
    with telco.client(timeout=600) as api:
        api.publish_pir_service({"name": "risk", "dataset": "pir_subscribers",
                                 "id_column": "msisdn", "columns": ["risk"],
                                 "modes": ["download"]})
    publish_s = time.perf_counter() - start
    walls = []
    with bank.client(timeout=600) as api:
        for _ in range(reps + 1):  # the first batch downloads the table
            start = time.perf_counter()
            answer = api.pir_query("telco", "risk", batch)
            walls.append(time.perf_counter() - start)
    found = sum(r["found"] for r in answer["rows"])
    if found != PIR_BATCH // 2:
        raise SystemExit(f"PIR through nodes found {found}, expected {PIR_BATCH // 2}")
    served = telco.call("GET", "/pir/batches", params={"side": "provider"})
    server_s = [float(b["seconds"]) for b in served if b["state"] == "ok"]
    return {"wall_s": statistics.median(walls[1:]), "first_s": walls[0],
            "server_s": statistics.median(server_s[: reps]), "publish_s": publish_s}


def pir_batch(root: Path, cluster: Cluster, reps: int = 3) -> None:
    """``services.pir.batch`` (see module docstring)."""
    frame = _pir_rows(PIR_ROWS)
    data = root / "pir.csv"
    frame.to_csv(data, index=False)
    batch = _pir_batch(frame["msisdn"].tolist())
    anchor = pir_protocol_only(frame, batch, reps)
    node = pir_node_run(cluster, data, batch, reps)
    emit("services.pir.batch", unit="s", ours=round(node["wall_s"], 3),
         anchor="protocol-only (pir roles on the in-memory hub, same rows and batch, same run)",
         anchor_value=round(anchor, 3), higher_is_better=False,
         params={"rows": PIR_ROWS, "batch": PIR_BATCH, "mode": "download", "reps": reps},
         client_wall_s=round(node["wall_s"], 3), server_s=round(node["server_s"], 3),
         first_batch_s=round(node["first_s"], 2), publish_s=round(node["publish_s"], 2),
         protocol_only_s=round(anchor, 3), ratio=round(anchor / node["wall_s"], 3))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true",
                    help="PSI 100k x 100k, PIR 100k rows, verify3 against 5,000 records "
                         "(≤ 3 minutes)")
    ap.add_argument("--only", choices=("psi", "pir", "verify3"), default=None,
                    help="one figure only")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-services-") as tmp:
        root = Path(tmp).resolve()
        # one pair of node processes serves every figure (each starts in ~10-30 s)
        with start_cluster(root / "nodes", ("bank", "telco"), data_dirs=[root],
                           fast_password_hashing=True) as cluster:
            if args.only in (None, "pir"):
                pir_batch(root, cluster, reps=2 if args.quick else 3)
            if args.only in (None, "verify3"):
                verify3_batch(root, cluster, records=5_000 if args.quick else 100_000)
            if args.only in (None, "psi"):
                psi_100k(root, cluster)


def psi_100k(root: Path, cluster: Cluster) -> None:
    """``services.psi.100k`` (see the module docstring)."""
    n = 100_000
    guest, host = _sets(n)
    guest_file, host_file = root / "guest.csv", root / "host.csv"
    pd.DataFrame({"id": guest}).to_csv(guest_file, index=False)
    pd.DataFrame({"id": host}).to_csv(host_file, index=False)
    anchor = protocol_only(root, guest_file, host_file)
    node = node_run(cluster, guest_file, host_file)
    emit("services.psi.100k", unit="s", ours=round(node["wall_s"], 2),
         anchor="protocol-only (engine.direct.psi, same sets, same run)",
         anchor_value=round(anchor, 2), higher_is_better=False,
         params={"guest": n, "host": n, "protocol": "kkrt", "shared": n // 2},
         protocol_only_s=round(anchor, 2), ratio=round(anchor / node["wall_s"], 3),
         client_wall_s=round(node["client_s"], 2), intersection=int(node["intersection"]))


def _people(n: int) -> list[tuple[str, str, str]]:
    return [(f"138{i:08d}", f"Name {secrets.token_hex(3)}", f"{secrets.randbits(60):018d}")
            for i in range(n)]


def verify3_batch(root: Path, cluster: Cluster, *, records: int, triples: int = 1_000) -> None:
    """``services.verify3.batch``: see the module docstring."""
    people = _people(records)
    # a quarter all-match, a quarter wrong name, a quarter wrong ID, a quarter unknown phone
    batch = []
    for i in range(triples):
        phone, name, id_no = people[(i * 7919) % records]
        kind = i % 4
        batch.append([phone if kind < 3 else f"139{i:08d}", name if kind != 1 else "Someone",
                      id_no if kind != 2 else "0"])
    src = root / "verify3.csv"
    pd.DataFrame(people, columns=["phone", "name", "id_number"]).to_csv(src, index=False)
    table = VerificationTable.build(people)
    bank_p, telco_p = Party.guest("bank"), Party.host("telco")

    def direct() -> None:
        run_parties({bank_p: lambda ctx: run_bank(ctx, batch,
                                                  cached=(table.manifest, table.tags)),
                     telco_p: lambda ctx: run_telco(ctx, table)}, timeout=120)

    anchor = median_time(direct, reps=3, warmup=1)
    cluster.register_dataset("telco", "v3_subscribers", src, id_column="id_number")
    cluster.grant("telco", "v3_subscribers", to="bank", kinds=["verify3"])
    start = time.perf_counter()
    made = cluster["telco"].call("POST", "/verify3/services", json={
        "name": "kyc", "dataset": "v3_subscribers"})
    publish_s = time.perf_counter() - start
    body = {"partner": "telco", "service": "kyc", "triples": batch}
    start = time.perf_counter()
    first = cluster["bank"].call("POST", "/verify3/query", json=body)
    first_s = time.perf_counter() - start
    ours = median_time(lambda: cluster["bank"].call("POST", "/verify3/query", json=body),
                       reps=3, warmup=0)
    found = sum(r["phone_found"] for r in first["results"])
    matched = sum(r["name_match"] and r["id_match"] for r in first["results"])
    if (found, matched) != (3 * triples // 4, triples // 4):
        raise SystemExit(f"verify3 answered wrongly: {found} found, {matched} all-match")
    emit("services.verify3.batch", unit="s", ours=round(ours, 3),
         anchor="protocol-only (verify3 roles in one process, in-memory hub, same table)",
         anchor_value=round(anchor, 3), higher_is_better=False,
         params={"triples": triples, "records": int(made["rows"]), "suite": made["suite"]},
         protocol_only_s=round(anchor, 3), ratio=round(anchor / ours, 3),
         first_query_s=round(first_s, 3), publish_s=round(publish_s, 2))


if __name__ == "__main__":
    sys.exit(main())
