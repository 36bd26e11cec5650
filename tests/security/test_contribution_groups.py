"""A hostile aggregator against contribution groups under SecAgg.

A job measuring contributions lets the aggregator learn the sum of each group of
``contribution_group_size`` clients. An aggregator that names fewer neighbours than that (a
smaller group, down to a pair it could pair with a sybil) would learn sums of fewer clients
than every client consented to: each client refuses such a round message before sending any
input, from its own copy of the job's parameters.
"""

from __future__ import annotations

import numpy as np
import pytest

from coalition.core import ConfigError, ProtocolError
from coalition.protocols.horizontal.client import _min_peers
from coalition.protocols.horizontal.secagg.keys import KeyPair
from coalition.protocols.horizontal.secagg.session import ClientSession
from coalition.protocols.horizontal.spec import HorizontalJobParams


def test_client_refuses_a_group_smaller_than_the_job_announced() -> None:
    params = HorizontalJobParams(contribution_group_size=3).protocol_params()
    need = _min_peers(params)
    assert need == 2
    session = ClientSession("host:a", "job/t", 64)
    vector = np.arange(4, dtype=np.uint64)
    one = {"host:b": KeyPair().public}
    with pytest.raises(ProtocolError, match="fewer neighbours"):
        session.reply(0, {"peers": one}, vector, min_peers=need)
    two = {**one, "host:c": KeyPair().public}
    out = session.reply(0, {"peers": two}, vector, min_peers=need)
    assert out["masked"].shape == vector.shape and not np.array_equal(out["masked"], vector)


def test_job_parameters_refuse_groups_of_one_under_secagg() -> None:
    with pytest.raises(ConfigError, match="invalid horizontal FL parameters"):
        HorizontalJobParams(contribution_group_size=1)
    plain = HorizontalJobParams(contribution_group_size=1, secure_aggregation=False)
    assert _min_peers(plain.protocol_params()) == 1
