"""The node's transaction rule (docs/node.md, "Transactions"), checked on the source.

1. A function that takes a ``Session`` works inside its caller's transaction: it never opens
   a session and never commits or rolls back.
2. Nothing commits or rolls back by hand: ``rt.db.session()`` commits on success and rolls
   back on an exception.
3. No transaction is held across a call to a partner (``rt.peers``), and transactions do not
   nest (a function of the same module that opens one is not called inside another).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

NODE = Path(__file__).resolve().parents[2] / "src" / "coalition" / "node"
_OPENERS = {"session", "write", "read"}  # rt.db.session(), jobs repository.write/read(rt, fn)


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(NODE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield str(path.relative_to(NODE)), ast.parse(path.read_text())


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _opens_transaction(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    target = ast.unparse(func.value)
    return (func.attr == "session" and target.endswith("db")) or (
        func.attr in {"write", "read"} and target == "repo")


def _transactions(tree: ast.AST) -> Iterator[ast.With]:
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(
                isinstance(i.context_expr, ast.Call) and _opens_transaction(i.context_expr)
                for i in node.items):
            yield node


def test_session_taking_functions_never_open_or_end_a_transaction() -> None:
    offenders = []
    for name, tree in _modules():
        for fn in _functions(tree):
            params = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
            if not any(p.annotation is not None and ast.unparse(p.annotation) == "Session"
                       for p in params):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Call) and _opens_transaction(node):
                    offenders.append(f"{name}:{node.lineno} {fn.name}")
    assert offenders == []


def test_nothing_commits_or_rolls_back_by_hand() -> None:
    offenders = [f"{name}:{node.lineno}" for name, tree in _modules() for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                 and node.func.attr in {"commit", "rollback"}]
    assert offenders == []


def test_no_transaction_spans_a_peer_call_or_another_transaction() -> None:
    offenders = []
    for name, tree in _modules():
        opening = {fn.name for fn in _functions(tree)
                   if any(isinstance(n, ast.Call) and _opens_transaction(n) for n in ast.walk(fn))}
        for block in _transactions(tree):
            for stmt in block.body:
                for node in ast.walk(stmt):
                    if not isinstance(node, ast.Call):
                        continue
                    called = ast.unparse(node.func)
                    if ".peers." in f".{called}" or _opens_transaction(node) or (
                            isinstance(node.func, ast.Name) and node.func.id in opening):
                        offenders.append(f"{name}:{node.lineno} {called}")
    assert offenders == []
