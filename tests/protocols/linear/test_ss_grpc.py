"""The SS variant over real gRPC processes trains the model the in-memory hub trains."""

import numpy as np
import pytest
from linear_roles import load
from test_ss_lr import BREAST, train


@pytest.mark.slow
def test_same_model_from_memory_hub_and_grpc_processes(fate_data):
    guest, hosts = load(fate_data, "breast")
    mem_g, mem_h = train(guest, hosts, BREAST)
    net_g, net_h = train(guest, hosts, BREAST, transport="grpc", timeout=120)
    # fresh random shares per run: identical up to fixed-point truncation noise (2^-14 per op)
    assert np.allclose(mem_h[0]["weights"], net_h[0]["weights"], atol=5e-3)
    assert np.allclose(mem_g["weights"], net_g["weights"], atol=5e-3)
    assert abs(mem_g["intercept"] - net_g["intercept"]) < 5e-3
    assert net_g["meta"]["loss"] == pytest.approx(mem_g["meta"]["loss"], abs=1e-3)
