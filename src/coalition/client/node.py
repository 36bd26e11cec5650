"""``NodeClient``: one Python client for a node's ``/api/v1``.

The CLI, the local-cluster helpers and the SDK all talk to a node through it. Every method
sends one request and returns the response's JSON (dicts and lists, as the API documents
them at ``/docs``); every failure raises a typed error — a :class:`RemoteError` that is also
the error its problem ``code`` names, or :class:`NodeUnreachableError` when nothing answered.

    with NodeClient("http://127.0.0.1:8470", token) as node:
        job = node.submit_job(dag_document)
        node.get_job(job["id"])["state"]

The credential is a session token (``cs_…``, from :meth:`login`) or an API key (``ck_…``),
sent as a bearer token. ``DEFAULT_NODE_URL``, ``NODE_URL_ENV`` and ``TOKEN_ENV`` are the
defaults every entry point shares.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from coalition.client.errors import NodeUnreachableError, error_from_problem
from coalition.core.errors import ConfigError

__all__ = ["API_PREFIX", "DEFAULT_NODE_URL", "NODE_URL_ENV", "TOKEN_ENV", "NodeClient"]

API_PREFIX = "/api/v1"
DEFAULT_NODE_URL = "http://127.0.0.1:8470"
NODE_URL_ENV = "COALITION_NODE_URL"
TOKEN_ENV = "COALITION_TOKEN"


def _seg(value: str | int) -> str:
    """One path segment: a name can never reach another route (``../users``, ``a/b``)."""
    return quote(str(value), safe="")


class NodeClient:
    """A node's API (see the module docstring). Close it, or use it as a context manager.

    ``http`` replaces the underlying :class:`httpx.Client` (tests pass one bound to an
    in-process app); its ``base_url`` is then the node's URL.
    """

    def __init__(self, url: str = DEFAULT_NODE_URL, token: str = "", *,
                 timeout: float = 120.0, http: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        if http is None:
            try:
                parsed = httpx.URL(self.url)
            except httpx.InvalidURL as exc:
                raise ConfigError("not a valid node URL", url=self.url) from exc
            if parsed.scheme not in ("http", "https") or not parsed.host:
                raise ConfigError("a node URL is http(s)://host[:port]", url=self.url)
        self._http = http or httpx.Client(base_url=self.url, timeout=timeout)
        self.token = token

    @classmethod
    def from_env(cls, **kwargs: Any) -> NodeClient:
        """A client for ``$COALITION_NODE_URL`` (default local node) with ``$COALITION_TOKEN``."""
        return cls(os.environ.get(NODE_URL_ENV, DEFAULT_NODE_URL),
                   os.environ.get(TOKEN_ENV, ""), **kwargs)

    def __repr__(self) -> str:  # never the token
        return f"NodeClient({self.url!r})"

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- transport -------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, *, json: Any = None,
                params: Mapping[str, Any] | None = None) -> Any:
        """Send ``method`` to ``/api/v1{path}``; return the JSON body (``None`` if empty).

        Raises the typed error of a problem response, or :class:`NodeUnreachableError`.
        """
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            r = self._http.request(method, f"{API_PREFIX}{path}", json=json, params=query,
                                   headers=self._headers())
        except httpx.TransportError as exc:
            raise NodeUnreachableError(f"cannot reach the node at {self.url}: "
                                       f"{type(exc).__name__}") from exc
        return _body(r)

    def events(self, path: str) -> Iterator[tuple[str, Any]]:
        """Follow a server-sent event stream at ``/api/v1{path}``: ``(event, data)`` pairs,
        until the stream's ``end`` event or its close."""
        try:
            with self._http.stream("GET", f"{API_PREFIX}{path}", headers=self._headers(),
                                   timeout=None) as stream:
                if stream.status_code >= 400:
                    stream.read()
                    _body(stream)
                event = ""
                for line in stream.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                        if event == "end":
                            return
                    elif line.startswith("data: "):
                        yield event, json.loads(line[6:])
        except httpx.TransportError as exc:
            raise NodeUnreachableError(f"cannot reach the node at {self.url}: "
                                       f"{type(exc).__name__}") from exc

    # -- session ---------------------------------------------------------------------------

    def login(self, username: str, password: str) -> str:
        """Log in; the session token is used for the calls that follow, and returned."""
        out = self.request("POST", "/auth/login", json={"username": username,
                                                        "password": password})
        self.token = str(out["token"])
        return self.token

    def login_session(self, username: str, password: str) -> Any:
        """Log in and return the whole answer (``token``, ``expires_at``, ``role``); the
        token is used for the calls that follow."""
        out = self.request("POST", "/auth/login", json={"username": username,
                                                        "password": password})
        self.token = str(out["token"])
        return out

    def logout(self) -> None:
        """End this session (the token stops working)."""
        self.request("POST", "/auth/logout")

    def me(self) -> Any:
        """Who the credential belongs to, and its permissions."""
        return self.request("GET", "/auth/me")

    def node_info(self) -> Any:
        """The node: its name, version and fingerprint."""
        return self.request("GET", "/node")

    def identity(self) -> Any:
        """The node's partner bundle (what partners import)."""
        return self.request("GET", "/node/identity")

    # -- users and API keys ----------------------------------------------------------------

    def list_users(self) -> Any:
        """Every user account."""
        return self.request("GET", "/users")

    def get_user(self, username: str) -> Any:
        """One user account."""
        return self.request("GET", f"/users/{_seg(username)}")

    def create_user(self, username: str, role: str, *, password: str | None = None,
                    kind: str = "human") -> Any:
        """A person (with ``password``) or an API user (``kind="api"``, no password)."""
        return self.request("POST", "/users", json={"username": username, "role": role,
                                                    "kind": kind, "password": password})

    def update_user(self, username: str, *, role: str | None = None,
                    disabled: bool | None = None) -> Any:
        """Change a user's role or disable/enable the account."""
        body = {k: v for k, v in (("role", role), ("disabled", disabled)) if v is not None}
        return self.request("PATCH", f"/users/{_seg(username)}", json=body)

    def reset_password(self, username: str, password: str) -> Any:
        """Set another user's password (their sessions end)."""
        return self.request("POST", f"/users/{_seg(username)}/password",
                            json={"password": password})

    def revoke_sessions(self, username: str) -> Any:
        """End every session of a user."""
        return self.request("POST", f"/users/{_seg(username)}/sessions/revoke")

    def list_api_keys(self) -> Any:
        """Every API key (never the secret)."""
        return self.request("GET", "/api-keys")

    def create_api_key(self, username: str, scopes: list[str],
                       expires_at: str | None = None) -> Any:
        """Issue a key for an API user; the answer's ``key`` is shown this once."""
        return self.request("POST", "/api-keys", json={"username": username, "scopes": scopes,
                                                       "expires_at": expires_at})

    def revoke_api_key(self, key_id: str) -> Any:
        """Revoke a key by its id."""
        return self.request("DELETE", f"/api-keys/{_seg(key_id)}")

    def list_auditor_requests(self, status: str | None = None) -> Any:
        """Requests to create, re-role or reset auditor accounts, newest first."""
        return self.request("GET", "/auditor-requests", params={"status": status})

    def request_auditor_change(self, action: str, username: str, *, role: str | None = None,
                               password: str | None = None) -> Any:
        """Ask for a change to an auditor account (``create``, ``role`` or ``password``);
        nothing changes until a different administrator or an auditor approves."""
        return self.request("POST", "/auditor-requests", json={
            "action": action, "username": username, "role": role, "password": password})

    def approve_auditor_request(self, request_id: int) -> Any:
        """Apply a requested auditor-account change (never the requester's own)."""
        return self.request("POST", f"/auditor-requests/{int(request_id)}/approve")

    def reject_auditor_request(self, request_id: int) -> Any:
        """Close a request without any change."""
        return self.request("POST", f"/auditor-requests/{int(request_id)}/reject")

    def change_password(self, current_password: str, new_password: str) -> Any:
        """Change the caller's own password."""
        return self.request("POST", "/auth/password", json={
            "current_password": current_password, "new_password": new_password})

    def job_contributions(self, job_id: str, *, task: str | None = None) -> Any:
        """Each data party's contribution to a finished vertical job (at its label holder);
        the scores are written to the federation log."""
        return self.request("POST", f"/jobs/{_seg(job_id)}/contributions", params={"task": task})

    # -- federation log (ledger) -----------------------------------------------------------

    def ledger_entries(self, *, origin: str | None = None, job: str | None = None,
                       after: int = 0, limit: int = 500) -> Any:
        """Entries of a log held by the node (default: the log it operates)."""
        return self.request("GET", "/ledger/entries", params={
            "origin": origin, "job": job, "after": after, "limit": limit})

    def ledger_proof(self, seq: int, *, origin: str | None = None) -> Any:
        """An RFC 9162 inclusion proof of entry ``seq`` in the newest signed head."""
        return self.request("GET", f"/ledger/entries/{int(seq)}/proof",
                            params={"origin": origin})

    def ledger_checkpoints(self, *, origin: str | None = None) -> Any:
        """Signed tree heads held by the node, newest first."""
        return self.request("GET", "/ledger/checkpoints", params={"origin": origin})

    def ledger_sync(self, witnesses: list[str] | None = None) -> Any:
        """Pull partners' entries, sign a head and collect co-signatures (operator)."""
        return self.request("POST", "/ledger/checkpoints", json={"witnesses": witnesses or []})

    def ledger_verify(self) -> Any:
        """Verify every log the node holds against its newest signed head."""
        return self.request("GET", "/ledger/verify")

    def ledger_alerts(self, *, open_only: bool = False) -> Any:
        """Forks and rewrites the node detected in partners' logs."""
        return self.request("GET", "/ledger/alerts", params={"open": open_only})

    def ledger_acknowledge(self, alert_id: int, reason: str) -> Any:
        """Lift one alert's stop on new jobs (admin), with the reason recorded."""
        return self.request("POST", f"/ledger/alerts/{int(alert_id)}/acknowledge",
                            json={"reason": reason})

    # -- partners --------------------------------------------------------------------------

    def list_partners(self) -> Any:
        """Every registered partner."""
        return self.request("GET", "/partners")

    def get_partner(self, name: str) -> Any:
        """One partner."""
        return self.request("GET", f"/partners/{_seg(name)}")

    def import_partner(self, bundle: str, address: str | None = None) -> Any:
        """Register a partner from its exported bundle (JSON text)."""
        body: dict[str, Any] = {"bundle": bundle}
        if address is not None:
            body["address"] = address
        return self.request("POST", "/partners/import", json=body)

    def register_partner(self, name: str, address: str, fingerprint: str,
                         certificate_pem: str | None = None) -> Any:
        """Register a partner by hand (its certificate fingerprint is pinned)."""
        return self.request("POST", "/partners", json={
            "name": name, "address": address, "fingerprint": fingerprint,
            "certificate_pem": certificate_pem})

    def remove_partner(self, name: str) -> Any:
        """Remove a partner."""
        return self.request("DELETE", f"/partners/{_seg(name)}")

    def partner_health(self, name: str) -> Any:
        """Call the partner over mutual TLS; report what it answered."""
        return self.request("POST", f"/partners/{_seg(name)}/health")

    def partner_datasets(self, name: str) -> Any:
        """Datasets the partner shares with this node."""
        return self.request("GET", f"/partners/{_seg(name)}/datasets")

    def ask_grant(self, partner: str, dataset: str, *, purpose: str,
                  component_kinds: list[str], valid_until: str,
                  terms: Mapping[str, Any] | None = None) -> Any:
        """Ask ``partner`` for a grant on its ``dataset`` (``valid_until``: ISO 8601 with a
        zone); the answer's ``status`` is ``pending`` or already decided by a policy."""
        body: dict[str, Any] = {"dataset": dataset, "purpose": purpose,
                                "component_kinds": sorted(component_kinds),
                                "valid_until": valid_until}
        if terms is not None:
            body["terms"] = dict(terms)
        return self.request("POST", f"/partners/{_seg(partner)}/grant-requests", json=body)

    def asked_grant(self, partner: str, grant_id: int) -> Any:
        """The state of a grant this node asked ``partner`` for."""
        return self.request("GET", f"/partners/{_seg(partner)}/grant-requests/{int(grant_id)}")

    # -- datasets --------------------------------------------------------------------------

    def list_datasets(self) -> Any:
        """Every registered dataset."""
        return self.request("GET", "/datasets")

    def get_dataset(self, name: str) -> Any:
        """One dataset: schema, row count, partners it is shared with."""
        return self.request("GET", f"/datasets/{_seg(name)}")

    def register_dataset(self, name: str, kind: str, location: str, *, id_column: str,
                         label_column: str | None = None, table: str | None = None,
                         description: str = "") -> Any:
        """Register a file (``csv``/``parquet``) inside the node's data folders, or an ``sql``
        table."""
        return self.request("POST", "/datasets", json={
            "name": name, "kind": kind, "location": location, "table": table,
            "id_column": id_column, "label_column": label_column, "description": description})

    def remove_dataset(self, name: str) -> Any:
        """Unregister a dataset (the data itself is left alone)."""
        return self.request("DELETE", f"/datasets/{_seg(name)}")

    def preview_dataset(self, name: str, limit: int | None = None) -> Any:
        """The first ``limit`` rows (owners only)."""
        return self.request("GET", f"/datasets/{_seg(name)}/preview", params={"limit": limit})

    def dataset_stats(self, name: str) -> Any:
        """Column statistics (owners only)."""
        return self.request("GET", f"/datasets/{_seg(name)}/stats")

    def share_dataset(self, name: str, partner: str) -> Any:
        """Make a dataset visible to a partner (it may then ask for grants)."""
        return self.request("PUT", f"/datasets/{_seg(name)}/partners/{_seg(partner)}")

    def unshare_dataset(self, name: str, partner: str) -> Any:
        """Hide a dataset from a partner."""
        return self.request("DELETE", f"/datasets/{_seg(name)}/partners/{_seg(partner)}")

    # -- grants and standing policies ------------------------------------------------------

    def list_grants(self, status: str | None = None) -> Any:
        """Grant requests partners made on this node's data (optionally of one status)."""
        return self.request("GET", "/grants", params={"status": status})

    def approvals(self) -> Any:
        """Grant requests waiting for a decision."""
        return self.request("GET", "/approvals")

    def get_grant(self, grant_id: int) -> Any:
        """One grant request and its decision."""
        return self.request("GET", f"/grants/{int(grant_id)}")

    def approve_grant(self, grant_id: int, reason: str = "",
                      terms: Mapping[str, Any] | None = None) -> Any:
        """Approve a request, with the terms asked or narrower ``terms``."""
        body: dict[str, Any] = {"reason": reason}
        if terms is not None:
            body["terms"] = dict(terms)
        return self.request("POST", f"/grants/{int(grant_id)}/approve", json=body)

    def reject_grant(self, grant_id: int, reason: str) -> Any:
        """Reject a request (a reason is required)."""
        return self.request("POST", f"/grants/{int(grant_id)}/reject", json={"reason": reason})

    def revoke_grant(self, grant_id: int, reason: str) -> Any:
        """Revoke an approved grant (a reason is required)."""
        return self.request("POST", f"/grants/{int(grant_id)}/revoke", json={"reason": reason})

    def list_policies(self) -> Any:
        """Standing policies that approve matching requests automatically."""
        return self.request("GET", "/policies")

    def create_policy(self, dataset: str, component_kinds: list[str], max_days: int, *,
                      partner: str | None = None,
                      terms: Mapping[str, Any] | None = None) -> Any:
        """Approve future requests on ``dataset`` for these kinds automatically."""
        body: dict[str, Any] = {"dataset": dataset, "partner": partner,
                                "component_kinds": sorted(component_kinds),
                                "max_days": max_days}
        if terms is not None:
            body["terms"] = dict(terms)
        return self.request("POST", "/policies", json=body)

    def remove_policy(self, policy_id: int) -> Any:
        """Remove a standing policy."""
        return self.request("DELETE", f"/policies/{int(policy_id)}")

    # -- jobs ------------------------------------------------------------------------------

    def submit_job(self, dag: Mapping[str, Any], **options: Any) -> Any:
        """Submit a DAG document here (the initiator); ``options`` are the request's other
        fields (``sites``, ``only``, ``from``, ``until``, ``force``, ``timeout_s``)."""
        return self.request("POST", "/jobs", json={"dag": dict(dag), **options})

    def list_jobs(self) -> Any:
        """Jobs this node initiated or takes part in, newest first."""
        return self.request("GET", "/jobs")

    def get_job(self, job_id: str) -> Any:
        """A job's state, each organisation's answer, each task's state."""
        return self.request("GET", f"/jobs/{_seg(job_id)}")

    def job_logs(self, job_id: str, task: str | None = None) -> Any:
        """Scheduler events and this node's workers' output."""
        return self.request("GET", f"/jobs/{_seg(job_id)}/logs", params={"task": task})

    def job_metrics(self, job_id: str) -> Any:
        """Every metric point the job's tasks reported."""
        return self.request("GET", f"/jobs/{_seg(job_id)}/metrics")

    def job_reports(self, job_id: str) -> Any:
        """Report outputs (ROC/KS curves, lift and gain, ...) this node's parties stored."""
        return self.request("GET", f"/jobs/{_seg(job_id)}/reports")

    def components(self) -> Any:
        """The component catalog: categories, typed ports, parameters' JSON Schema."""
        return self.request("GET", "/components")

    def component(self, ref: str) -> Any:
        """One component (``name`` or ``name:major``)."""
        return self.request("GET", f"/components/{_seg(ref)}")

    def job_templates(self) -> Any:
        """The job templates the node serves: title, question, organisations and roles."""
        return self.request("GET", "/templates")

    def job_template(self, name: str) -> Any:
        """One job template with its document (``dag`` parsed, ``dag_yaml`` as shipped)."""
        return self.request("GET", f"/templates/{_seg(name)}")

    def validate_dag(self, document: Mapping[str, Any]) -> Any:
        """The node's validator on a DAG document, nothing submitted: ``valid``,
        ``problems`` (``path``, ``task``, ``message``) and the run ``order``."""
        return self.request("POST", "/dags/validate", json=dict(document))

    def job_events(self, job_id: str) -> Iterator[tuple[str, Any]]:
        """Live ``job`` and ``metric`` events until the job ends."""
        return self.events(f"/jobs/{_seg(job_id)}/events")

    def cancel_job(self, job_id: str, reason: str = "") -> Any:
        """Cancel a job everywhere."""
        return self.request("POST", f"/jobs/{_seg(job_id)}/cancel", json={"reason": reason})

    def rerun_job(self, job_id: str, **options: Any) -> Any:
        """Run a job again as a new job (``only``, ``from``, ``until``, ``force``)."""
        return self.request("POST", f"/jobs/{_seg(job_id)}/rerun", json=options)

    def approve_job(self, job_id: str, reason: str = "") -> Any:
        """Take part in a partner's job no grant covered."""
        return self.request("POST", f"/jobs/{_seg(job_id)}/approve", json={"reason": reason})

    def reject_job(self, job_id: str, reason: str) -> Any:
        """Refuse a partner's job no grant covered."""
        return self.request("POST", f"/jobs/{_seg(job_id)}/reject", json={"reason": reason})

    # -- models and services ---------------------------------------------------------------

    def list_models(self, name: str | None = None) -> Any:
        """Every model version (or one model's)."""
        return self.request("GET", "/models", params={"name": name})

    def get_model(self, name: str, version: int) -> Any:
        """One model version."""
        return self.request("GET", f"/models/{_seg(name)}/versions/{int(version)}")

    def publish_model(self, body: Mapping[str, Any]) -> Any:
        """Register a model version on every party (the request body of ``POST /models``)."""
        return self.request("POST", "/models", json=dict(body))

    def delete_model(self, name: str, version: int) -> Any:
        """Delete a version here and on its hosts."""
        return self.request("DELETE", f"/models/{_seg(name)}/versions/{int(version)}")

    def verify_model(self, name: str, version: int) -> Any:
        """Check this node's part against its digest and signature."""
        return self.request("POST", f"/models/{_seg(name)}/versions/{int(version)}/verify")

    def protect_model(self, name: str, version: int, enabled: bool) -> Any:
        """Turn tamper protection on or off."""
        return self.request("PUT", f"/models/{_seg(name)}/versions/{int(version)}/protection",
                            json={"enabled": enabled})

    def compare_models(self, name: str, a: int, b: int) -> Any:
        """Parameters and metrics of two versions side by side."""
        return self.request("GET", f"/models/{_seg(name)}/compare", params={"a": a, "b": b})

    def list_services(self) -> Any:
        """Deployed inference services."""
        return self.request("GET", "/services")

    def deploy_service(self, body: Mapping[str, Any]) -> Any:
        """Serve a model version (the request body of ``POST /services``)."""
        return self.request("POST", "/services", json=dict(body))

    def predict(self, service: str, ids: list[str], features: list[Any] | None = None) -> Any:
        """Score IDs with a deployed service; ``features``: the guest's raw rows, one per ID
        (objects by column or lists; strings for text columns, None for missing values)."""
        body: dict[str, Any] = {"ids": ids}
        if features is not None:
            body["features"] = features
        return self.request("POST", f"/services/{_seg(service)}/predict", json=body)

    def add_online_source(self, name: str, dataset: str, mode: str = "index") -> Any:
        """Serve features by ID from a registered dataset (``POST /online-sources``)."""
        return self.request("POST", "/online-sources",
                            json={"name": name, "dataset": dataset, "mode": mode})

    def undeploy_service(self, name: str) -> Any:
        """Stop serving; hosts drop their bindings."""
        return self.request("DELETE", f"/services/{_seg(name)}")

    # -- PSI tasks -------------------------------------------------------------------------

    def create_psi_task(self, body: Mapping[str, Any]) -> Any:
        """Save a PSI task with a partner (the request body of ``POST /psi/tasks``)."""
        return self.request("POST", "/psi/tasks", json=dict(body))

    def list_psi_tasks(self) -> Any:
        """Saved PSI tasks."""
        return self.request("GET", "/psi/tasks")

    def run_psi_task(self, task: str) -> Any:
        """Run a PSI task now; returns its run record."""
        return self.request("POST", f"/psi/tasks/{_seg(task)}/run")

    def list_psi_runs(self, *, task: str | None = None, state: str | None = None,
                      limit: int | None = None) -> Any:
        """PSI run records, newest first."""
        return self.request("GET", "/psi/runs",
                            params={"task": task, "state": state, "limit": limit})

    def get_psi_run(self, run_id: int) -> Any:
        """One PSI run record."""
        return self.request("GET", f"/psi/runs/{int(run_id)}")

    def preview_psi_run(self, run_id: int, limit: int | None = None) -> Any:
        """The first rows of a run's result."""
        return self.request("GET", f"/psi/runs/{int(run_id)}/preview", params={"limit": limit})

    def add_psi_schedule(self, task: str, cron: str) -> Any:
        """Run a PSI task at every time a cron expression names (UTC)."""
        return self.request("POST", f"/psi/tasks/{_seg(task)}/schedules", json={"cron": cron})

    def list_psi_schedules(self) -> Any:
        """Every PSI schedule."""
        return self.request("GET", "/psi/schedules")

    def remove_psi_schedule(self, schedule_id: int) -> Any:
        """Delete a PSI schedule."""
        return self.request("DELETE", f"/psi/schedules/{int(schedule_id)}")

    def download_psi_run(self, run_id: int, fmt: str = "csv") -> bytes:
        """A run's whole result as CSV or Parquet bytes (audited on the node)."""
        try:
            r = self._http.get(f"{API_PREFIX}/psi/runs/{int(run_id)}/download",
                               params={"format": fmt}, headers=self._headers())
        except httpx.TransportError as exc:
            raise NodeUnreachableError(f"cannot reach the node at {self.url}: "
                                       f"{type(exc).__name__}") from exc
        if r.status_code >= 400:
            _body(r)
        return r.content

    # -- three-element verification ------------------------------------------------------

    def publish_verify3(self, body: Mapping[str, Any]) -> Any:
        """Publish (or rebuild under a new key) a verification service from a dataset."""
        return self.request("POST", "/verify3/services", json=dict(body))

    def list_verify3_services(self) -> Any:
        """The verification services this node publishes."""
        return self.request("GET", "/verify3/services")

    def withdraw_verify3(self, name: str) -> Any:
        """Stop offering a verification service (its tags and key are deleted)."""
        return self.request("DELETE", f"/verify3/services/{_seg(name)}")

    def rebuild_verify3(self, name: str) -> Any:
        """Rebuild a service from its dataset under a fresh key (a new epoch)."""
        return self.request("POST", f"/verify3/services/{_seg(name)}/rebuild")

    def verify3(self, partner: str, service: str, triples: Sequence[Sequence[str]]) -> Any:
        """Verify ``[phone, name, id_number]`` triples against a partner's service."""
        return self.request("POST", "/verify3/query", json={
            "partner": partner, "service": service, "triples": [list(t) for t in triples]})

    def list_verify3_batches(self, *, side: str | None = None, limit: int | None = None) -> Any:
        """Verification batches served and queried by this node (counts only)."""
        params = {k: v for k, v in (("side", side), ("limit", limit)) if v is not None}
        return self.request("GET", "/verify3/batches", params=params)


    # -- PIR services ---------------------------------------------------------------------------
    def publish_pir_service(self, body: Mapping[str, Any]) -> Any:
        """Publish a PIR service from a registered dataset (``POST /pir/services``)."""
        return self.request("POST", "/pir/services", json=dict(body))

    def list_pir_services(self) -> Any:
        """The PIR services this node publishes."""
        return self.request("GET", "/pir/services")

    def rebuild_pir_service(self, service: str, *, rotate: bool = False) -> Any:
        """Sync a service's table with its dataset (``rotate``: under a new key epoch)."""
        return self.request("POST", f"/pir/services/{_seg(service)}/rebuild",
                            params={"rotate": rotate})

    def withdraw_pir_service(self, service: str) -> Any:
        """Stop offering a service (its table and keys are deleted; records stay)."""
        return self.request("DELETE", f"/pir/services/{_seg(service)}")

    def set_pir_schedule(self, service: str, cron: str | None) -> Any:
        """Rebuild a service under a new epoch on a cron schedule (``None``: no schedule)."""
        return self.request("PUT", f"/pir/services/{_seg(service)}/schedule",
                            json={"cron": cron})

    def set_pir_quota(self, service: str, partner: str, max_queries: int,
                      api_key: str | None = None) -> Any:
        """Padded queries per epoch for a partner (or one of its API keys)."""
        return self.request("PUT", f"/pir/services/{_seg(service)}/quotas", json={
            "partner": partner, "api_key": api_key, "max_queries": max_queries})

    def pir_usage(self, service: str) -> Any:
        """Quota use in the service's current epoch."""
        return self.request("GET", f"/pir/services/{_seg(service)}/usage")

    def describe_pir_service(self, partner: str, service: str) -> Any:
        """A partner's PIR service as it describes itself."""
        return self.request("GET", f"/pir/partners/{_seg(partner)}/services/{_seg(service)}")

    def pir_query(self, partner: str, service: str, ids: list[Any], *,
                  mode: str | None = None, columns: list[str] | None = None,
                  decoys: int | None = None) -> Any:
        """Look up ``ids`` in a partner's service: ``{"rows": [...], "batch": {...}}``."""
        return self.request("POST", "/pir/query", json={
            "partner": partner, "service": service, "ids": ids, "mode": mode,
            "columns": columns or [], "decoys": decoys})

    def pir_query_file(self, partner: str, service: str, csv: bytes, *,
                       column: str | None = None, mode: str | None = None,
                       columns: list[str] | None = None, decoys: int | None = None,
                       fmt: str = "json") -> Any:
        """Look up the IDs of a CSV file; JSON as :meth:`pir_query`, or CSV/Parquet bytes."""
        params = {k: v for k, v in {"partner": partner, "service": service, "column": column,
                                    "mode": mode, "columns": columns or None,
                                    "decoys": decoys, "format": fmt}.items() if v is not None}
        try:
            r = self._http.post(f"{API_PREFIX}/pir/query/file", content=csv, params=params,
                                headers={**self._headers(), "Content-Type": "text/csv"})
        except httpx.TransportError as exc:
            raise NodeUnreachableError(f"cannot reach the node at {self.url}: "
                                       f"{type(exc).__name__}") from exc
        if r.status_code >= 400 or fmt == "json":
            return _body(r)
        return r.content

    def list_pir_batches(self, *, side: str | None = None, service: str | None = None,
                         partner: str | None = None, state: str | None = None,
                         limit: int | None = None) -> Any:
        """PIR batch records of this node (both sides), newest first."""
        return self.request("GET", "/pir/batches", params={
            "side": side, "service": service, "partner": partner, "state": state,
            "limit": limit})

def _body(r: httpx.Response) -> Any:
    """The JSON of a success, or the typed error of a failure."""
    try:
        body = r.json() if r.content else None
    except ValueError:
        body = None
    if r.status_code >= 400:
        raise error_from_problem(r.status_code, body)
    return body
