"""``/components``, ``/templates`` and ``/dags/validate``: what a job can be built from,
read-only.

The registry's declarations are data (``Component.describe``): the console renders its palette,
typed ports and parameter forms from them, and the server stays the authority on validity —
``/dags/validate`` runs the same validator as ``POST /jobs`` and ``coalition job validate``
and answers every problem with the path it came from (``tasks.<task>.parameters.<field>``),
which the console maps back onto the form. ``/templates`` serves the job templates
(:mod:`coalition.engine.templates`) that the console's editor loads onto its canvas.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel

from coalition.components import REGISTRY
from coalition.components.base import Component
from coalition.engine.dag import DagError, parse_dag
from coalition.engine.templates import JOB_TEMPLATES, get_job_template
from coalition.engine.validate import validate_dag
from coalition.node.api.deps import Require
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal

__all__ = ["CATEGORIES", "router"]

router = APIRouter(tags=["catalog"])
Reader = Annotated[Principal, Depends(Require(Permission.JOBS_READ))]

#: Palette categories by component name; a component not listed is under "other", so a new
#: component (feature engineering, PSI/PIR services, ...) shows up without a console change.
CATEGORIES: dict[str, str] = {
    "reader": "data", "psi": "data", "data_split": "data", "data_union": "data",
    "verify3": "data",
    "hetero_lr": "vertical", "hetero_linr": "vertical", "hetero_secureboost": "vertical",
    "hetero_nn": "vertical",
    "homo_lr": "horizontal", "homo_nn": "horizontal", "homo_gbdt": "horizontal",
    "predict": "scoring", "evaluate": "scoring",
}


class ComponentOut(BaseModel):
    """One component's declaration (``coalition component describe``) and its category."""

    ref: str
    name: str
    version: str
    category: str
    description: str
    roles: list[str]
    required_roles: list[str]
    inputs: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]
    parameters: dict[str, Any]


class DagProblem(BaseModel):
    """One problem of a DAG: where (``tasks.<task>.…``), which task, and what."""

    path: str
    task: str | None
    message: str


class TemplateOut(BaseModel):
    """A job template: its description and, from ``/templates/{name}``, its document."""

    name: str
    title: str
    question: str
    parties: dict[str, str]
    who_learns_what: str
    roles: dict[str, list[str]]
    tasks: list[str]
    doc: str
    dag: dict[str, Any] | None = None
    dag_yaml: str | None = None


class Validation(BaseModel):
    """The validator's verdict; ``order`` is the tasks in the order they would run."""

    valid: bool
    problems: list[DagProblem]
    order: list[str]


def _out(cls: type[Component]) -> ComponentOut:
    return ComponentOut(**cls.describe(), category=CATEGORIES.get(cls.name, "other"))


@router.get("/components", response_model=list[ComponentOut], summary="Component catalog")
def components(_: Reader) -> list[ComponentOut]:
    """Every registered component: category, roles, typed inputs/outputs, parameter schema."""
    return [_out(cls) for cls in REGISTRY.components()]


@router.get("/components/{ref}", response_model=ComponentOut, summary="One component")
def component(ref: str, _: Reader) -> ComponentOut:
    """``name`` (highest major) or ``name:major``; ``not_found`` when unknown."""
    return _out(REGISTRY.get(ref))


@router.get("/templates", response_model=list[TemplateOut], summary="Job templates")
def templates(_: Reader) -> list[TemplateOut]:
    """Every job template: title, business question, organisations and roles, who learns what."""
    return [TemplateOut(**t.describe()) for t in JOB_TEMPLATES.values()]


@router.get("/templates/{name}", response_model=TemplateOut, summary="One job template")
def template(name: Annotated[str, Path(max_length=64)], _: Reader) -> TemplateOut:
    """A template with its job document (parsed and as shipped); ``not_found`` when unknown."""
    job = get_job_template(name)
    return TemplateOut(**job.describe(), dag=job.dag(), dag_yaml=job.dag_text())


@router.post("/dags/validate", response_model=Validation, summary="Validate a DAG (dry run)")
def validate(document: dict[str, Any], _: Reader) -> Validation:
    """Run the job validator on ``document`` without submitting it; every problem at once."""
    try:
        graph = validate_dag(parse_dag(document))
    except DagError as exc:
        return Validation(valid=False, order=[], problems=[
            DagProblem(path=p.path, task=p.task, message=p.message)
            for p in exc.problems])
    return Validation(valid=True, problems=[], order=list(graph.tasks))
