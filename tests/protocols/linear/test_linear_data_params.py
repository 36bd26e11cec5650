import numpy as np
import pytest

from coalition.core.errors import ConfigError, InputError
from coalition.protocols.linear import LinearModelPart, LinearParams, PartyTable, Standardizer
from coalition.protocols.linear.data import ids_digest, load_party_csv


def test_load_sorts_by_id_and_digest_matches(fate_data):
    g = load_party_csv(fate_data / "breast_hetero_guest.csv", label_column="y")
    h = load_party_csv(fate_data / "breast_hetero_host.csv")
    assert g.ids == sorted(g.ids) and g.labels is not None
    assert ids_digest(g.ids) == ids_digest(h.ids)
    assert ids_digest(g.ids[:-1]) != ids_digest(h.ids)
    assert h.labels is None and h.features.shape == (569, 20)


def test_table_rejects_bad_input():
    with pytest.raises(InputError):
        PartyTable.from_arrays(["a", "a"], np.zeros((2, 1)))
    with pytest.raises(InputError):
        PartyTable.from_arrays(["a", "b"], np.array([[1.0], [np.nan]]))


def test_standardizer_roundtrip():
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    s = Standardizer().fit(x)
    assert np.allclose(s.transform(x), [[-1.0, 0.0], [1.0, 0.0]])
    again = Standardizer.from_dict(s.to_dict())
    assert np.allclose(again.transform(x), s.transform(x))


@pytest.mark.parametrize("bad", [
    {"protocol": "ss", "optimizer": "adam"},
    {"protocol": "ss", "penalty": "l1"},
    {"protocol": "ss", "class_weight": "balanced"},
    {"epochs": 0},
    {"key_bits": 1024},
    {"unknown": 1},
])
def test_params_rejected_with_config_error(bad):
    with pytest.raises(ConfigError):
        LinearParams.parse(bad)


def test_artifact_roundtrip_and_validation():
    part = LinearModelPart("guest", "logistic", "ss", ["a", "b"], np.array([0.5, -1.0]),
                           Standardizer().fit(np.array([[0.0, 1.0], [2.0, 3.0]])), 0.25)
    back = LinearModelPart.from_artifact(part.to_artifact())
    assert np.array_equal(back.weights, part.weights) and back.intercept == 0.25
    raw = part.to_artifact() | {"weights": [1.0]}
    with pytest.raises(InputError):
        LinearModelPart.from_artifact(raw)
    with pytest.raises(InputError):
        LinearModelPart.from_artifact({"kind": "other"})


def test_estimator_table_selects_by_protocol_and_role():
    from coalition.core import Role
    from coalition.protocols.linear import HEArbiter, SSDealer, estimator_for

    assert isinstance(estimator_for({"protocol": "ss"}, Role.ARBITER), SSDealer)
    he = {"protocol": "he-arbiter", "key_bits": 1024, "allow_insecure_key": True}
    assert isinstance(estimator_for(he, Role.ARBITER), HEArbiter)
    with pytest.raises(ConfigError):
        estimator_for({**he, "protocol": "he-guest"}, Role.ARBITER)


def test_typed_role_builders_split_data_roles_from_the_coordinator():
    from coalition.core import Role
    from coalition.protocols.linear import (
        HEGuest,
        HEHost,
        SSDealer,
        SSGuest,
        SSHost,
        coordinator,
        data_role,
    )

    he = {"protocol": "he-guest", "key_bits": 1024, "allow_insecure_key": True}
    assert isinstance(data_role({"protocol": "ss"}, Role.GUEST), SSGuest)
    assert isinstance(data_role({"protocol": "ss"}, Role.HOST), SSHost)
    assert isinstance(data_role(he, Role.GUEST), HEGuest)
    assert isinstance(data_role(he, Role.HOST), HEHost)
    assert isinstance(coordinator({"protocol": "ss"}), SSDealer)
    with pytest.raises(ConfigError):
        data_role({"protocol": "ss"}, Role.ARBITER)  # the arbiter holds no data
    with pytest.raises(ConfigError):
        coordinator(he)  # he-guest has no arbiter


def test_ids_take_psis_canonical_form_so_padded_or_cased_ids_align():
    guest = PartyTable.from_arrays([" B2", "a1 "], [[2.0], [1.0]], [1.0, 0.0])
    host = PartyTable.from_arrays(["b2", "A1"], [[20.0], [10.0]])
    assert guest.ids == host.ids == ["a1", "b2"]
    assert guest.features[:, 0].tolist() == [1.0, 2.0] and guest.labels.tolist() == [0.0, 1.0]
    assert ids_digest(guest.ids) == ids_digest(host.ids)
    with pytest.raises(InputError):  # equal after canonicalisation: a duplicate, as at PSI
        PartyTable.from_arrays(["a", "A"], [[1.0], [2.0]])


def test_non_numeric_feature_error_names_only_the_offending_column():
    import pandas as pd

    from coalition.components.artifacts import Dataset

    frame = pd.DataFrame({"id": [1, 2], "x0": [1.0, 2.0], "city": ["a", "b"], "x2": [3, 4]})
    with pytest.raises(InputError) as info:
        Dataset(frame, "id").feature_matrix()
    assert info.value.details["columns"] == ["city"]
