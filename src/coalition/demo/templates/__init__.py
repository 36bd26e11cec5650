"""Industry templates (行业样板间): a DAG, a data generator and a page per business scenario.

A template is what a bank or telco team copies to start a real project: the job document
(``<name>/dag.yaml``, package data), seeded synthetic data for every party with the dependence
the scenario is about (:mod:`.generators`), the business question, who learns what, and the
metric the generated data reaches (its *floor*, checked in the tests). ``coalition template``
lists, describes, writes out (``init``) and runs them — in this process (standalone mode, each
party's role in its own thread on the in-memory hub) or across node processes
(``--nodes``: one node per organisation over mutual TLS, as ``coalition demo``).
"""

from __future__ import annotations

from coalition.demo.templates.catalog import TEMPLATES, Headline, Template, get_template
from coalition.demo.templates.nodes import run_template_on_nodes
from coalition.demo.templates.run import TemplateRun, init_template, run_template

__all__ = ["TEMPLATES", "Headline", "Template", "TemplateRun", "get_template", "init_template",
           "run_template", "run_template_on_nodes"]
