"""The privacy policy: which jobs a participant may accept, checked on the job document alone.

Pure (no database, no network): :func:`check` takes the validated :class:`JobGraph`, the sites
(party → organisation) and a :class:`PrivacyPolicy`, and returns **every** violation as a typed
:class:`Violation` (a stable rule code, the task, a message that names the rule and the job's
own parameters, never data). Every participant runs it on its own node before it accepts a
proposal (``coalition.node.jobs.consent``), and the initiator runs it at submit to fail fast.

Rules (defaults in brackets; see ``docs/security.md`` "policy"):

* ``policy.coordinator_cosited`` — an arbiter (SS Beaver-triple dealer, HE key holder,
  horizontal aggregator) must sit at an organisation that runs no data party of the task: a
  dealer that also holds data opens the other side's shares, a key holder decrypts the
  residuals (labels), an aggregator sees its own clients' updates in the clear.
* ``policy.ss_guest_dealer`` — ``hetero_lr``/``hetero_linr`` with ``protocol: ss`` and no
  arbiter makes the guest the dealer, which lets it recover the hosts' (standardised)
  features; allowed only where the host's owner granted ``allow_guest_dealer``.
* ``policy.he_batch_size`` — Paillier LR: every party that sees per-batch aggregates
  (``X_h^T d`` at hosts, and ``X_g^T k·u_h`` at the guest for ``he-guest``) could solve for the
  batch's residuals (labels) or scores when the batch has about as many rows as it has
  features; ``batch_size`` must be at least ``he_batch_factor`` [10, never lower] × the
  widest observer's feature count (as far as this node knows it; the roles check the exact
  widths again at run time).
* ``policy.ou_lr`` — ``hetero_lr``/``hetero_linr`` with ``he_scheme: ou``: the key holder
  decrypts what partners send and returns the plaintexts, and an Okamoto–Uchiyama ciphertext
  of ``m >= p`` decrypts to ``m mod p``, which factors ``n`` (the scheme's chosen-ciphertext
  weakness): an active partner recovers the key and reads ``[[d]]`` (labels) and every score.
  Allowed only where each data owner granted ``allow_ou_lr`` (Paillier, the default, has no
  such oracle: its plaintext space ``Z_n`` is public).
* ``policy.statistics_min_count`` — ``feature_statistics`` where a host of this owner shares
  its aggregates with the guest (``share_with_guest``): the job's ``min_count`` must be at least
  ``MIN_STATISTICS_COUNT`` [10]; below it "aggregates" and top values describe single rows, and
  the job document, which sets both, is written by the initiator.
* ``policy.groupby_epsilon`` — ``feature_groupby`` where a host of this owner is the value
  owner: its ``epsilon`` must be at most ``MAX_GROUPBY_EPSILON`` [1.0]; the noise on each group
  sum is the host's only protection against groups the guest forms (a group of one row), and
  the job document that sets it is written by the initiator.
* ``policy.label_sampling`` — SecureBoost ``sampling: goss`` keeps the rows with the largest
  gradients, i.e. by label in tree 0, and ``feature_sample`` with ``class_fractions`` samples
  each class at its own rate: hosts learn labels from which rows they are sent; only where the
  label owner granted ``allow_label_sampling``.
* ``policy.secagg_required`` / ``policy.too_few_clients`` — horizontal jobs need secure
  aggregation and at least ``min_client_orgs`` [2] distinct client organisations (also per
  round, ``clients_per_round``).
* ``policy.variant_not_granted`` / ``policy.coordinator_not_granted`` /
  ``policy.batch_below_grant`` — the owner's grants (:class:`GrantTerms`) may restrict the
  component variants, the organisations allowed to coordinate, and a minimum batch size; these
  apply to the tasks in which the owner's parties take part.

The rules read each party's parameters as the typed model its component declares (a
:class:`~coalition.core.params.Params` subclass of the protocol's: :class:`LinearParams`,
:class:`SecureBoostParams`, :class:`HorizontalJobParams`, :class:`PsiParams`), never by
attribute probing; a component registered under a policed name with another model is refused
(:class:`ConfigError`), so a renamed field cannot silently switch a rule off. A new component
with variants adds its reader to ``_VARIANTS`` (and its rule to ``_RULES``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from coalition.core.errors import ConfigError
from coalition.core.ids import Party, Role
from coalition.core.params import Params
from coalition.crypto.suite import CryptoSuite
from coalition.engine.validate import JobGraph, TaskNode, validate_dag
from coalition.protocols.feature.spec import GroupByParams, SampleParams, StatisticsParams
from coalition.protocols.horizontal import HorizontalJobParams
from coalition.protocols.horizontal.gbdt import GBDTJobParams
from coalition.protocols.linear import MIN_HE_BATCH_FACTOR, LinearParams
from coalition.protocols.psi import PsiParams
from coalition.protocols.secureboost import SecureBoostParams

__all__ = [
    "MAX_GROUPBY_EPSILON",
    "MIN_CLIENT_ORGS",
    "MIN_HE_BATCH_FACTOR",
    "MIN_STATISTICS_COUNT",
    "GrantTerms",
    "PolicyError",
    "PrivacyPolicy",
    "Violation",
    "check",
    "fill_suite",
    "suite_of",
    "variant_of",
]

#: The floor of ``min_client_orgs``: one client's "aggregate" is its update.
MIN_CLIENT_ORGS = 2
#: The floor of a shared statistic's ``min_count``: fewer rows describe individuals.
MIN_STATISTICS_COUNT = 10
#: The ceiling of a value owner's ``epsilon`` in ``feature_groupby`` (noise per group sum).
MAX_GROUPBY_EPSILON = 1.0

_Variant = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}(:[a-z0-9_.-]{1,32})?$")]
_Org = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]

# hetero_lr_multiclass runs hetero_lr K times; hetero_poisson is hetero_lr's he-arbiter;
# hetero_lr_contribution runs hetero_lr once per coalition of hosts
_LINEAR = frozenset({"hetero_lr", "hetero_linr", "hetero_lr_multiclass", "hetero_poisson",
                     "hetero_lr_contribution"})
_HORIZONTAL = frozenset({"homo_lr", "homo_nn"})
# secure aggregation always on (no switch); its suite and the client count are checked
_HOMO_GBDT = "homo_gbdt"


class GrantTerms(BaseModel):
    """What an owner's grant allows beyond the component kinds (stored as JSON on the grant).

    Allowances default to off; restrictions default to none. Several grants combine with
    :meth:`combine`: an allowance holds only if every grant gives it, restrictions intersect.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow_guest_dealer: bool = Field(False, description="ss LR without an arbiter")
    allow_label_sampling: bool = Field(False, description="SecureBoost goss")
    allow_ou_lr: bool = Field(False, description="HE-LR with he_scheme ou (decryption oracle)")
    variants: list[_Variant] | None = Field(
        None, max_length=64, description="allowed 'component' or 'component:variant' (None: any)")
    coordinators: list[_Org] | None = Field(
        None, max_length=64,
        description="organisations allowed to run the arbiter (None: any distinct one)")
    min_batch_size: int | None = Field(None, ge=1, description="LR batch_size at least this")

    @classmethod
    def own_data(cls) -> GrantTerms:
        """Terms for an owner's own job: it chose the settings itself."""
        return cls(allow_guest_dealer=True, allow_label_sampling=True, allow_ou_lr=True)

    def combine(self, other: GrantTerms) -> GrantTerms:
        """Terms that satisfy both ``self`` and ``other``."""
        def meet(a: list[str] | None, b: list[str] | None) -> list[str] | None:
            return b if a is None else a if b is None else sorted(set(a) & set(b))

        floors = [v for v in (self.min_batch_size, other.min_batch_size) if v is not None]
        return GrantTerms(
            allow_guest_dealer=self.allow_guest_dealer and other.allow_guest_dealer,
            allow_label_sampling=self.allow_label_sampling and other.allow_label_sampling,
            allow_ou_lr=self.allow_ou_lr and other.allow_ou_lr,
            variants=meet(self.variants, other.variants),
            coordinators=meet(self.coordinators, other.coordinators),
            min_batch_size=max(floors) if floors else None)

    def within(self, ceiling: GrantTerms) -> bool:
        """Whether these (requested) terms ask for no allowance ``ceiling`` does not give."""
        return (ceiling.allow_guest_dealer or not self.allow_guest_dealer) and \
            (ceiling.allow_label_sampling or not self.allow_label_sampling) and \
            (ceiling.allow_ou_lr or not self.allow_ou_lr)

    def under(self, ceiling: GrantTerms) -> GrantTerms:
        """The requested allowances with ``ceiling``'s restrictions added (what a standing
        policy approves)."""
        return self.combine(ceiling.model_copy(update={
            "allow_guest_dealer": True, "allow_label_sampling": True, "allow_ou_lr": True}))


@dataclass(frozen=True)
class PrivacyPolicy:
    """Thresholds (node settings) and, for the evaluating owner, its grants' terms.

    ``owner`` is the organisation whose data ``terms`` protect (``None`` at submit: only the
    job-wide rules are checked). ``feature_counts`` maps ``str(party)`` to the number of
    features the node knows that party reads (its own datasets); unknown parties count as 1.
    """

    he_batch_factor: int = MIN_HE_BATCH_FACTOR
    min_client_orgs: int = MIN_CLIENT_ORGS
    owner: str | None = None
    terms: GrantTerms = field(default_factory=GrantTerms.own_data)
    feature_counts: Mapping[str, int] = field(default_factory=dict)
    crypto_suite: CryptoSuite = CryptoSuite.STANDARD
    """The federation's crypto suite (node setting): every PSI task must run under it."""

    def __post_init__(self) -> None:
        # configurable upward only: a lower setting is a configuration error, not a choice
        if self.he_batch_factor < MIN_HE_BATCH_FACTOR or self.min_client_orgs < MIN_CLIENT_ORGS:
            raise ConfigError("privacy thresholds may only be raised",
                              he_batch_factor=self.he_batch_factor,
                              min_client_orgs=self.min_client_orgs)


@dataclass(frozen=True)
class Violation:
    """One broken rule: stable ``rule`` code, the ``task``, a message without data."""

    rule: str
    task: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} (task {self.task}): {self.message}"


class PolicyError(ConfigError):
    """A job breaks the privacy policy; ``violations`` lists every broken rule."""

    code = "policy.violation"

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("the job breaks the privacy policy:\n  "
                         + "\n  ".join(str(v) for v in violations))
        self.violations = violations

    def __str__(self) -> str:
        return self.message

    def to_problem(self) -> dict[str, Any]:
        """RFC 9457 body with the violations as ``errors``."""
        return {**super().to_problem(), "errors": [
            {"rule": v.rule, "task": v.task, "message": v.message} for v in self.violations]}


_P = TypeVar("_P", bound=Params)


def _params(node: TaskNode, model: type[_P]) -> list[_P]:
    """Every party's parameters, as the typed ``model`` the component declares (party blocks
    may differ, so each party's own values count). A component whose parameters are not a
    ``model`` cannot be judged by these rules: :class:`ConfigError`, never a silent pass."""
    out: list[_P] = []
    for party in node.parties:
        params = node.params.get(party)
        if not isinstance(params, model):
            raise ConfigError("the privacy policy cannot read this component's parameters",
                              component=node.component.ref(), expected=model.__name__)
        out.append(params)
    return out


def _data(node: TaskNode) -> list[Party]:
    return [p for p in node.parties if p.role is not Role.ARBITER]


def _arbiters(node: TaskNode) -> list[Party]:
    return [p for p in node.parties if p.role is Role.ARBITER]


def _linear_variant(node: TaskNode) -> str:
    protocol = _params(node, LinearParams)[0].protocol
    return "ss-guest-dealer" if protocol == "ss" and not _arbiters(node) else protocol


def _secureboost_variant(node: TaskNode) -> str:
    return _params(node, SecureBoostParams)[0].sampling


def _horizontal_variant(node: TaskNode) -> str:
    secure = all(p.secure_aggregation for p in _params(node, HorizontalJobParams))
    return "secagg" if secure else "plain"


def _psi_variant(node: TaskNode) -> str:
    return _params(node, PsiParams)[0].protocol.value


#: Per component name, the variant its parameters select; any other component: ``default``.
_VARIANTS: dict[str, Callable[[TaskNode], str]] = {
    **dict.fromkeys(_LINEAR, _linear_variant), "hetero_secureboost": _secureboost_variant,
    **dict.fromkeys(_HORIZONTAL, _horizontal_variant), "psi": _psi_variant}


def variant_of(node: TaskNode) -> str:
    """``component:variant`` — what grants' ``variants`` name (the guest's view of it)."""
    name = node.component.name
    read = _VARIANTS.get(name)
    return f"{name}:{read(node) if read is not None else 'default'}"


def _coordinator(name: str, node: TaskNode, sites: Mapping[str, str]) -> list[Violation]:
    data_orgs = {sites[str(p)] for p in _data(node)}
    return [Violation("policy.coordinator_cosited", name,
                      f"the arbiter {a} is sited at {sites[str(a)]}, which also runs a data "
                      "party of the task; site it at an organisation holding no data here")
            for a in _arbiters(node) if sites[str(a)] in data_orgs]


def _linear(name: str, node: TaskNode, sites: Mapping[str, str], policy: PrivacyPolicy
            ) -> list[Violation]:
    out: list[Violation] = []
    params = _params(node, LinearParams)
    protocols = {p.protocol for p in params}
    guests = {sites[str(p)] for p in node.parties if p.role is Role.GUEST}
    if "ss" in protocols and not _arbiters(node) and not policy.terms.allow_guest_dealer:
        at_risk = [h for h in node.parties if h.role is Role.HOST
                   and sites[str(h)] == policy.owner and sites[str(h)] not in guests]
        if at_risk:
            out.append(Violation("policy.ss_guest_dealer", name, "protocol 'ss' without an "
                                 "arbiter makes the guest the dealer; the grant of "
                                 f"{policy.owner} does not allow guest dealing"))
    he = {p for p in protocols if p in ("he-arbiter", "he-guest")}
    data_orgs = {sites[str(p)] for p in _data(node)}
    if he and any(p.he_scheme == "ou" for p in params) and policy.owner in data_orgs \
            and not policy.terms.allow_ou_lr:
        out.append(Violation("policy.ou_lr", name, "he_scheme 'ou' makes the key holder's "
                             "decryption service a key-recovery oracle; the grant of "
                             f"{policy.owner} does not allow OU in LR"))
    if he:
        observers = [p for p in _data(node) if p.role is Role.HOST or "he-guest" in he]
        width = max((policy.feature_counts.get(str(p), 1) for p in observers), default=1)
        floor = policy.he_batch_factor * width
        small = [p.batch_size for p in params
                 if p.batch_size is not None and p.batch_size < floor]
        if small:
            out.append(Violation("policy.he_batch_size", name,
                                 f"batch_size {min(small)} is below the floor {floor} "
                                 f"({policy.he_batch_factor} x the widest observer's features)"))
    return out


def _secureboost(name: str, node: TaskNode, sites: Mapping[str, str], policy: PrivacyPolicy
                 ) -> list[Violation]:
    label_owners = {sites[str(p)] for p in node.parties if p.role is Role.GUEST}
    sampling = {p.sampling for p in _params(node, SecureBoostParams)}
    if "goss" in sampling and policy.owner in label_owners \
            and not policy.terms.allow_label_sampling:
        return [Violation("policy.label_sampling", name, "sampling 'goss' selects rows by "
                          f"gradient (label); the grant of {policy.owner} does not allow "
                          "label-dependent sampling")]
    return []


def _sample(name: str, node: TaskNode, sites: Mapping[str, str], policy: PrivacyPolicy
            ) -> list[Violation]:
    label_owners = {sites[str(p)] for p in node.parties if p.role is Role.GUEST}
    if any(p.label_dependent() for p in _params(node, SampleParams)) \
            and policy.owner in label_owners and not policy.terms.allow_label_sampling:
        return [Violation("policy.label_sampling", name, "class_fractions sample each label "
                          "class at its own rate, so hosts learn labels from the positions; "
                          f"the grant of {policy.owner} does not allow label-dependent "
                          "sampling")]
    return []


def _horizontal(name: str, node: TaskNode, sites: Mapping[str, str], policy: PrivacyPolicy
                ) -> list[Violation]:
    out: list[Violation] = []
    per_round: list[int] = []
    if node.component.name == _HOMO_GBDT:
        _params(node, GBDTJobParams)  # SecAgg always on, every client in every step
    else:
        params = _params(node, HorizontalJobParams)
        if not all(p.secure_aggregation for p in params):
            out.append(Violation("policy.secagg_required", name,
                                 "horizontal training needs secure_aggregation: true"))
        per_round = [p.clients_per_round for p in params if p.clients_per_round is not None]
    orgs = {sites[str(p)] for p in _data(node)}
    if len(orgs) < policy.min_client_orgs or any(c < policy.min_client_orgs for c in per_round):
        out.append(Violation("policy.too_few_clients", name,
                             f"needs at least {policy.min_client_orgs} distinct client "
                             "organisations, in the job and in every round"))
    return out


_Rule = Callable[[str, TaskNode, Mapping[str, str], PrivacyPolicy], list[Violation]]

#: Per component name, the rule that judges its parameters (the coordinator and grant rules
#: apply to every task).
def _statistics(name: str, node: TaskNode, sites: Mapping[str, str], policy: PrivacyPolicy
                ) -> list[Violation]:
    small = [params.min_count for party, params in zip(node.parties,
                                                       _params(node, StatisticsParams),
                                                       strict=True)
             if party.role is Role.HOST and sites[str(party)] == policy.owner
             and params.share_with_guest and params.min_count < MIN_STATISTICS_COUNT]
    if small:
        return [Violation("policy.statistics_min_count", name,
                          f"min_count {min(small)} for statistics {policy.owner} shares is below "
                          f"the floor {MIN_STATISTICS_COUNT}")]
    return []


def _groupby(name: str, node: TaskNode, sites: Mapping[str, str], policy: PrivacyPolicy
             ) -> list[Violation]:
    loose = [params.epsilon for party, params in zip(node.parties, _params(node, GroupByParams),
                                                     strict=True)
             if party.role is Role.HOST and sites[str(party)] == policy.owner
             and params.epsilon > MAX_GROUPBY_EPSILON]
    if loose:
        return [Violation("policy.groupby_epsilon", name,
                          f"epsilon {max(loose)} of {policy.owner}'s group sums is above the "
                          f"ceiling {MAX_GROUPBY_EPSILON}")]
    return []


_RULES: dict[str, _Rule] = {**dict.fromkeys(_LINEAR, _linear), "hetero_secureboost": _secureboost,
          **dict.fromkeys(_HORIZONTAL | {_HOMO_GBDT}, _horizontal),
          "feature_statistics": _statistics, "feature_sample": _sample,
          "feature_groupby": _groupby}


def _granted(name: str, node: TaskNode, sites: Mapping[str, str], policy: PrivacyPolicy
             ) -> list[Violation]:
    terms, out = policy.terms, list[Violation]()
    if policy.owner not in {sites[str(p)] for p in node.parties}:
        return out
    variant = variant_of(node)
    if terms.variants is not None and not {variant, node.component.name} & set(terms.variants):
        out.append(Violation("policy.variant_not_granted", name,
                             f"{variant} is not among the variants {policy.owner} granted"))
    if terms.coordinators is not None:
        out += [Violation("policy.coordinator_not_granted", name,
                          f"{policy.owner} did not grant {sites[str(a)]} the arbiter's role")
                for a in _arbiters(node) if sites[str(a)] not in terms.coordinators]
    if terms.min_batch_size is not None and node.component.name in _LINEAR:
        sizes = [p.batch_size for p in _params(node, LinearParams) if p.batch_size is not None]
        if any(b < terms.min_batch_size for b in sizes):
            out.append(Violation("policy.batch_below_grant", name,
                                 f"batch_size is below the {terms.min_batch_size} rows "
                                 f"{policy.owner} granted"))
    return out


def suite_of(params: object) -> CryptoSuite | None:
    """The crypto suite a task's parameters name; ``None`` when the component takes none. A
    component is suite-bearing exactly when its parameter model declares ``suite``."""
    if not isinstance(params, Params) or "suite" not in type(params).model_fields:
        return None
    return CryptoSuite(getattr(params, "suite"))  # noqa: B009 - declared field, checked above


def _names_suite(node: TaskNode) -> bool:
    spec = node.spec
    return "suite" in spec.parameters or any(
        "suite" in block for block in (*spec.role_parameters.values(),
                                       *spec.party_parameters.values()))


def fill_suite(graph: JobGraph, suite: CryptoSuite | str) -> JobGraph:
    """The job with ``suite: <suite>`` added to the parameters of every suite-bearing task
    (:func:`suite_of`) that names no suite in any parameter block; tasks that name one keep it
    (the policy then judges it). Under ``standard`` the job is returned unchanged: omitting the
    suite already means ``standard``, and its document and digest stay those of earlier
    releases. The initiator's node applies this at submit, so the proposed and recorded job
    names the federation's suite explicitly."""
    name = CryptoSuite(suite)
    if name == CryptoSuite.STANDARD:
        return graph
    filled = {task: node.spec.model_copy(update={"parameters": {**node.spec.parameters,
                                                                "suite": name.value}})
              for task, node in graph.tasks.items()
              if "suite" in node.component.Params.model_fields and not _names_suite(node)}
    if not filled:
        return graph
    return validate_dag(graph.spec.model_copy(update={"tasks": {**graph.spec.tasks, **filled}}))


def _suite(name: str, node: TaskNode, policy: PrivacyPolicy) -> list[Violation]:
    """A federation on one crypto suite runs no task under another (no downgrade by the
    proposer: ``tests/security/test_suite_downgrade.py``). Every suite-bearing component
    (:func:`suite_of`) is checked, party block by party block: PSI, verify3, SecAgg, SS-LR's
    share PRG, the suite HE and SS linear parts record for their prediction masks, the
    guest's secret draws of ``data_split`` and ``feature_sample``, and the alignment digests every vertical model sends (linear models of every protocol, SecureBoost
    with its sampling stream, split NN, group-by, predict)."""
    suites = [suite_of(params) for params in node.params.values()]
    if any(s is not None and s != policy.crypto_suite for s in suites):
        return [Violation("policy.crypto_suite", name,
                          f"the federation runs the {policy.crypto_suite.value} crypto suite")]
    return []


def check(graph: JobGraph, sites: Mapping[str, str], policy: PrivacyPolicy) -> list[Violation]:
    """Every violation of ``policy`` by the job (empty: the policy accepts it)."""
    out: list[Violation] = []
    for name, node in graph.tasks.items():
        out += _coordinator(name, node, sites)
        out += _suite(name, node, policy)
        rule = _RULES.get(node.component.name)
        if rule is not None:
            out += rule(name, node, sites, policy)
        out += _granted(name, node, sites, policy)
    return out
