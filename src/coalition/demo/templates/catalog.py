"""The templates: what each one asks, who takes part, and what its generated data reaches."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from coalition.core.errors import NotFoundError
from coalition.demo.templates.generators import make_marketing_data

__all__ = ["TEMPLATES", "Headline", "Template", "get_template"]

Generate = Callable[[Path, int, int], dict[str, Path]]


@dataclass(frozen=True)
class Headline:
    """The one number a template is judged by: where it is read and the floor it must reach.

    ``path`` walks the ``report`` of ``task`` at the guest (keys and list indices)."""

    name: str
    task: str
    path: tuple[str | int, ...]
    floor: float
    meaning: str

    def read(self, report: Mapping[str, Any]) -> float:
        """The headline's value in ``report``."""
        value: Any = report
        for step in self.path:
            value = value[step]
        return float(value)


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


def _marketing(folder: Path, customers: int, seed: int) -> dict[str, Path]:
    data = make_marketing_data(customers, customers * 4 // 3, customers * 4 // 5, seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {"carmaker": folder / "carmaker.csv", "telco": folder / "telco.csv"}
    data.carmaker.to_csv(out["carmaker"], index=False)
    data.telco.to_csv(out["telco"], index=False)
    return out


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
                "learns the split gains, never telco values. Scores and lift: car maker only."),
        headline=Headline("lift_top_decile", "evaluate", ("lift_gain", 0, "lift"), 2.0,
                          "purchase rate among the top 10% of scores over the overall rate"),
        generate=_marketing,
        default_customers=3000,
        doc="docs/templates/joint_marketing.md",
    ),
)}


def get_template(name: str) -> Template:
    """The template called ``name``; a typed error listing the others if there is none."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise NotFoundError("no such template", template=name,
                            templates=sorted(TEMPLATES)) from None
