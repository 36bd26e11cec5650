"""The templates: what each one asks, who takes part, and what its generated data reaches."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coalition.core.errors import NotFoundError
from coalition.demo.templates.generators import (
    make_credit_raw,
    make_marketing_data,
    make_verification_data,
)
from coalition.engine.synthetic import make_credit_scenario
from coalition.engine.templates import JOB_TEMPLATES, JobTemplate

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
    """One scenario (see the package docstring): the job document and its description
    (:class:`~coalition.engine.templates.JobTemplate`, which the node serves to the console)
    with the data generator and the headline its generated data must reach."""

    job: JobTemplate
    headline: Headline
    generate: Generate  # (folder, customers, seed) -> {organisation: csv path}
    default_customers: int

    @property
    def name(self) -> str:
        """The template's name."""
        return self.job.name

    @property
    def title(self) -> str:
        """Its title."""
        return self.job.title

    @property
    def question(self) -> str:
        """The business question it answers."""
        return self.job.question

    @property
    def parties(self) -> Mapping[str, str]:
        """Organisation -> what it holds."""
        return self.job.parties

    @property
    def learns(self) -> str:
        """Who learns what."""
        return self.job.learns

    @property
    def doc(self) -> str:
        """Its documentation page."""
        return self.job.doc

    def dag_text(self) -> str:
        """The job document, as shipped."""
        return self.job.dag_text()

    def dag(self) -> dict[str, Any]:
        """The job document, parsed."""
        return self.job.dag()

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (``coalition template describe``)."""
        described = self.job.describe()
        return {**{k: v for k, v in described.items() if k not in ("roles", "tasks", "doc")},
                "headline": {"metric": self.headline.name, "task": self.headline.task,
                             "floor": self.headline.floor, "meaning": self.headline.meaning},
                "roles": described["roles"], "tasks": described["tasks"],
                "default_customers": self.default_customers, "doc": self.doc}


def _template(name: str, *, headline: Headline, generate: Generate,
              default_customers: int) -> Template:
    return Template(JOB_TEMPLATES[name], headline, generate, default_customers)


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
    _template(
        "joint_marketing",
        headline=Headline("lift_top_decile", "evaluate", ("lift_gain", 0, "lift"), 2.0,
                          "purchase rate among the top 10% of scores over the overall rate"),
        generate=_marketing,
        default_customers=3000,
    ),
    _template(
        "credit_scorecard",
        headline=Headline("auc", "card_evaluate", ("auc",), 0.70,
                          "AUC of the scorecard's points on the held-out customers"),
        generate=_credit,
        default_customers=3000,
    ),
    _template(
        "cross_analysis",
        headline=Headline("max_abs_r", "correlate", ("max_abs_r",), 0.3,
                          "the strongest bank-telco correlation found (late loans vs late bills "
                          "by construction)", output="metrics"),
        generate=_cross,
        default_customers=3000,
    ),
    _template(
        "verify3",
        headline=Headline("id_match_rate", "verify", ("id_match_count",), 0.84,
                          "share of the bank's triples whose ID number the telco's record for "
                          "that phone confirms (86 % in expectation by construction)", output="metrics",
                          per="triples"),
        generate=_verification,
        default_customers=1000,
    ),
)}


def get_template(name: str) -> Template:
    """The template called ``name``; a typed error listing the others if there is none."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise NotFoundError("no such template", template=name,
                            templates=sorted(TEMPLATES)) from None
