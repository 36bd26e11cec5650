import itertools

import pytest

from coalition.core import ConflictError
from coalition.engine.states import (
    JOB_TRANSITIONS,
    TASK_TRANSITIONS,
    InvalidTransitionError,
    JobState,
    TaskState,
    advance,
    is_terminal,
    job_outcome,
)

J, T = JobState, TaskState


@pytest.mark.parametrize("path", [
    [J.PENDING, J.WAITING_APPROVAL, J.RUNNING, J.SUCCEEDED],
    [J.PENDING, J.RUNNING, J.FAILED],
    [J.PENDING, J.WAITING_APPROVAL, J.CANCELLED],
    [J.PENDING, J.WAITING_APPROVAL, J.FAILED],
    [J.PENDING, J.RUNNING, J.CANCELLED],
])
def test_allowed_job_paths(path):
    for before, after in itertools.pairwise(path):
        t = advance(before, after, job="j")
        assert (t.before, t.after, t.task) == (before.value, after.value, None)


@pytest.mark.parametrize("path", [
    [T.PENDING, T.RUNNING, T.SUCCEEDED],
    [T.PENDING, T.RUNNING, T.FAILED],
    [T.PENDING, T.REUSED],
    [T.PENDING, T.CANCELLED],
    [T.PENDING, T.RUNNING, T.CANCELLED],
])
def test_allowed_task_paths(path):
    for before, after in itertools.pairwise(path):
        assert advance(before, after, job="j", task="t").task == "t"


@pytest.mark.parametrize("before,after", [
    (J.SUCCEEDED, J.RUNNING), (J.FAILED, J.RUNNING), (J.CANCELLED, J.PENDING),
    (J.RUNNING, J.WAITING_APPROVAL), (J.PENDING, J.SUCCEEDED), (J.RUNNING, J.PENDING),
    (T.PENDING, T.SUCCEEDED), (T.REUSED, T.RUNNING), (T.SUCCEEDED, T.RUNNING),
    (T.FAILED, T.PENDING), (T.RUNNING, T.REUSED),
])
def test_forbidden_transitions_raise_a_typed_conflict(before, after):
    with pytest.raises(InvalidTransitionError) as info:
        advance(before, after, job="j", task=None if isinstance(before, JobState) else "t")
    assert isinstance(info.value, ConflictError)
    assert info.value.code == "job.invalid_transition"
    assert info.value.to_problem()["status"] == 409


def test_job_and_task_states_do_not_mix():
    with pytest.raises(InvalidTransitionError):
        advance(J.PENDING, T.RUNNING, job="j")  # type: ignore[type-var]


def test_terminal_states_have_no_exit():
    for table in (JOB_TRANSITIONS, TASK_TRANSITIONS):
        for state, nxt in table.items():
            assert is_terminal(state) == (not nxt)
            assert all(s in table for s in nxt)
    assert {s for s in JobState if is_terminal(s)} == {J.SUCCEEDED, J.FAILED, J.CANCELLED}


def test_job_outcome_from_task_states():
    assert job_outcome([T.SUCCEEDED, T.REUSED]) is J.SUCCEEDED
    assert job_outcome([T.SUCCEEDED, T.FAILED, T.CANCELLED]) is J.FAILED
    assert job_outcome([T.SUCCEEDED, T.CANCELLED]) is J.CANCELLED
    with pytest.raises(InvalidTransitionError):
        job_outcome([T.SUCCEEDED, T.RUNNING])
