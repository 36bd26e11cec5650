"""Job templates (行业样板间): ready-made job documents for business scenarios, and what each
asks and who learns what.

The node serves this catalog (``GET /api/v1/templates``) so the console's editor can load a
template onto its canvas; ``coalition template`` (:mod:`coalition.demo.templates`) adds the
seeded data generators and the headline each one must reach, and runs them. Each document is
package data (``<name>/dag.yaml``); its parties are role placeholders named after the
organisations of the scenario, which the console maps onto real partners.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from coalition.core.errors import NotFoundError

__all__ = ["JOB_TEMPLATES", "JobTemplate", "get_job_template"]


@dataclass(frozen=True)
class JobTemplate:
    """One scenario's job document and its description."""

    name: str
    title: str
    question: str
    parties: Mapping[str, str]  # organisation -> what it holds (and its role)
    learns: str
    doc: str  # the page that explains it

    def dag_text(self) -> str:
        """The job document, as shipped."""
        return (resources.files(__package__) / self.name / "dag.yaml").read_text("utf-8")

    def dag(self) -> dict[str, Any]:
        """The job document, parsed."""
        doc: dict[str, Any] = yaml.safe_load(self.dag_text())
        return doc

    def describe(self) -> dict[str, Any]:
        """JSON-ready description: the text, the roles' organisations and the task names."""
        dag = self.dag()
        return {"name": self.name, "title": self.title, "question": self.question,
                "parties": dict(self.parties), "who_learns_what": self.learns,
                "roles": dag["parties"], "tasks": list(dag["tasks"]), "doc": self.doc}


JOB_TEMPLATES: dict[str, JobTemplate] = {t.name: t for t in (
    JobTemplate(
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
        doc="docs/templates/joint_marketing.md",
    ),
    JobTemplate(
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
        doc="docs/templates/credit_scorecard.md",
    ),
    JobTemplate(
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
        doc="docs/templates/cross_analysis.md",
    ),
    JobTemplate(
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
        doc="docs/templates/verify3.md",
    ),
)}


def get_job_template(name: str) -> JobTemplate:
    """The template called ``name``; a typed error listing the others if there is none."""
    try:
        return JOB_TEMPLATES[name]
    except KeyError:
        raise NotFoundError("no such template", template=name,
                            templates=sorted(JOB_TEMPLATES)) from None
