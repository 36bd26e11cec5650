"""The templates: what each one asks, who takes part, and what its generated data reaches."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from coalition.core.errors import NotFoundError
from coalition.demo.templates.generators import (
    make_credit_raw,
    make_marketing_data,
    make_verification_data,
)
from coalition.engine.synthetic import make_credit_scenario

__all__ = ["TEMPLATES", "Headline", "Template", "get_template"]

Generate = Callable[[Path, int, int], dict[str, Path]]


@dataclass(frozen=True)
class Headline:
    """The one number a template is judged by: where it is read and the floor it must reach.

    ``path`` walks the ``output`` (``report`` or ``metrics``) of ``task`` at the guest (keys
    and list indices); with ``per``, the value is divided by that metric of the same output."""

    name: str
    task: str
    path: tuple[str | int, ...]
    floor: float
    meaning: str
    output: str = "report"
    per: str | None = None

    def read(self, doc: Mapping[str, Any]) -> float:
        """The headline's value in ``doc`` (the output's content)."""
        value: Any = doc
        for step in self.path:
            value = value[step]
        return float(value) / float(doc[self.per]) if self.per else float(value)


@dataclass(frozen=True)
class Template:
    """One scenario (see the package docstring)."""

    name: str
    title: str
    question: str
    parties: Mapping[str, str]  # organisation -> what it holds
    learns: str
    headline: Headline
    generate: Generate  # (folder, customers, seed) -> {organisation: csv path}
    default_customers: int
    doc: str

    def dag_text(self) -> str:
        """The job document, as shipped."""
        return (resources.files(__package__) / self.name / "dag.yaml").read_text("utf-8")

    def dag(self) -> dict[str, Any]:
        """The job document, parsed."""
        doc: dict[str, Any] = yaml.safe_load(self.dag_text())
        return doc

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (``coalition template describe``)."""
        dag = self.dag()
        return {"name": self.name, "title": self.title, "question": self.question,
                "parties": dict(self.parties), "who_learns_what": self.learns,
                "headline": {"metric": self.headline.name, "task": self.headline.task,
                             "floor": self.headline.floor, "meaning": self.headline.meaning},
                "roles": dag["parties"], "tasks": list(dag["tasks"]),
                "default_customers": self.default_customers, "doc": self.doc}


def _write(folder: Path, tables: Mapping[str, Any]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {org: folder / f"{org}.csv" for org in tables}
    for org, frame in tables.items():
        frame.to_csv(out[org], index=False)
    return out


def _credit(folder: Path, customers: int, seed: int) -> dict[str, Path]:
    bank, telco = make_credit_raw(customers, customers * 5 // 4, customers * 3 // 4, seed)
    return _write(folder, {"bank": bank, "telco": telco})


def _cross(folder: Path, customers: int, seed: int) -> dict[str, Path]:
    scenario = make_credit_scenario(customers, customers * 5 // 4, customers * 3 // 4, seed)
    return _write(folder, {"bank": scenario.bank.drop(columns=["default"]),
                           "telco": scenario.telco})


def _verification(folder: Path, customers: int, seed: int) -> dict[str, Path]:
    data = make_verification_data(customers, customers * 5, seed)
    out = _write(folder, {"bank": data.bank, "telco": data.telco})
    # What a correct run returns (not read by the job; the tests compare against it).
    data.truth.to_csv(folder.parent / "expected_flags.csv", index=False)
    return out


def _marketing(folder: Path, customers: int, seed: int) -> dict[str, Path]:
    data = make_marketing_data(customers, customers * 4 // 3, customers * 4 // 5, seed)
    # Who of the telco's non-customers buys (not read by the job; the prospect check is).
    data.prospects.to_csv(folder.parent / "expected_prospects.csv", index=False)
    return _write(folder, {"carmaker": data.carmaker, "telco": data.telco})


TEMPLATES: dict[str, Template] = {t.name: t for t in (
    Template(
        name="joint_marketing",
        title="Joint marketing (联合营销): telco + car maker",
        question=("Which of the car maker's customers are likely to buy a new car soon, using "
                  "the telco's usage and device data without either side sharing its table?"),
        parties={"carmaker": "guest: ownership age, service visits, model segment, the "
                             "purchase label `bought`",
                 "telco": "host: ARPU, tenure, call minutes, app category, location entropy, "
                          "device tier"},
        learns=("PSI: both learn the shared customers only. Statistics: each party its own "
                "(the telco's stay at the telco). Binning/IV: the car maker learns per-bin "
                "label counts of each telco feature, never its bin edges or which row is in "
                "which bin; the telco sees only encrypted labels. SecureBoost: the telco sees "
                "encrypted gradients and which of its own bins a split uses; the car maker "
                "learns the split gains, never telco values. Scores and lift: car maker only. "
                "Prospects: the car maker scores the telco's campaign tokens (not phones) "
                "through its service; the telco sees no score."),
        headline=Headline("lift_top_decile", "evaluate", ("lift_gain", 0, "lift"), 2.0,
                          "purchase rate among the top 10% of scores over the overall rate"),
        generate=_marketing,
        default_customers=3000,
        doc="docs/templates/joint_marketing.md",
    ),
    Template(
        name="credit_scorecard",
        title="Joint credit risk with a scorecard (联合风控): bank + telco",
        question=("Which applicants will default, scored as points a credit officer can read, "
                  "from the bank's raw exports and the telco's payment behaviour?"),
        parties={"bank": "guest: age, income (some missing), debt ratio, credit lines, late "
                         "loans, employment (text), the label `default`",
                 "telco": "host: tenure, monthly bill, data usage (some missing), late bills, "
                          "device price, plan (text)",
                 "coordinator": "arbiter: deals Beaver triples for SS-LR; sees no data"},
        learns=("PSI: the shared customers. Binning/IV: the bank learns per-bin label counts "
                "of each telco feature, never its edges or a row's bin; the telco sees only "
                "encrypted labels (masked sums). WOE: the bank's features become WOE at the "
                "bank; the telco's become bin indicators at the telco (no label-derived value "
                "reaches it). SS-LR: secret shares only; the coordinator sees triples' shapes. "
                "Scorecard: each party holds the points of its own bins; the bank the total."),
        headline=Headline("auc", "card_evaluate", ("auc",), 0.70,
                          "AUC of the scorecard's points on the held-out customers"),
        generate=_credit,
        default_customers=3000,
        doc="docs/templates/credit_scorecard.md",
    ),
    Template(
        name="cross_analysis",
        title="Cross analysis (联合统计分析): bank + telco, no model",
        question=("What do the bank's and the telco's shared customers look like, and which "
                  "bank columns move with which telco columns?"),
        parties={"bank": "guest: age, income, debt ratio, credit lines, late loans",
                 "telco": "host: tenure, monthly bill, data usage, late bills, device price",
                 "coordinator": "arbiter: deals the correlation's Beaver triples; sees shapes"},
        learns=("PSI: the shared customers. Statistics: each party its own; the telco chooses "
                "to share its aggregates (k-rule: none over fewer than 10 rows). Correlation: "
                "the bank learns the Pearson r of each (bank, telco) column pair; no raw or "
                "standardised column crosses, the telco and the coordinator learn nothing. "
                "Group-by: the telco sees encrypted band indicators only; the bank learns band "
                "sums the telco clipped and noised, bands under 10 rows suppressed."),
        headline=Headline("max_abs_r", "correlate", ("max_abs_r",), 0.3,
                          "the strongest bank-telco correlation found (late loans vs late bills "
                          "by construction)", output="metrics"),
        generate=_cross,
        default_customers=3000,
        doc="docs/templates/cross_analysis.md",
    ),
    Template(
        name="verify3",
        title="Three-element verification (三要素核验): bank + telco",
        question=("Do the name and ID number the bank holds for each customer match the "
                  "telco's record for the customer's phone — without the telco learning "
                  "which phones the bank asked about?"),
        parties={"bank": "guest: customer_id, phone, name, id_number (the triples to verify)",
                 "telco": "host: phone, name, id_number of every subscriber"},
        learns=("The bank: per triple, whether the telco has the phone and whether the "
                "record's name and ID number equal its own, and the telco's record count. "
                "The telco: the padded batch size only. Neither sees the other's elements or a "
                "plain hash of one (docs/pir.md)."),
        headline=Headline("id_match_rate", "verify", ("id_match_count",), 0.84,
                          "share of the bank's triples whose ID number the telco's record for "
                          "that phone confirms (86 % in expectation by construction)", output="metrics",
                          per="triples"),
        generate=_verification,
        default_customers=1000,
        doc="docs/templates/verify3.md",
    ),
)}


def get_template(name: str) -> Template:
    """The template called ``name``; a typed error listing the others if there is none."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise NotFoundError("no such template", template=name,
                            templates=sorted(TEMPLATES)) from None
