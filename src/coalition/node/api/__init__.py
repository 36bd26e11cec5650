"""The user API (FastAPI, ``/api/v1``): one router per resource, one RFC 9457 error handler."""

from coalition.node.api.deps import Require
from coalition.node.api.problem import PROBLEM_JSON, install_problem_handlers

__all__ = ["PROBLEM_JSON", "Require", "install_problem_handlers"]
