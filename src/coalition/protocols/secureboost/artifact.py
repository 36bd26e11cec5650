"""Model parts as plain, JSON-compatible dicts (one per party; each stays with its owner).

* guest part: params, initial scores, every tree's structure, owners and leaf weights, and the
  guest's own thresholds;
* host part: params and the host's splits ``(tree, node, feature, threshold, default_left)``.

Neither part contains the other's secrets, so each node can sign and store its own part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from coalition.core import InputError
from coalition.protocols.secureboost.predict import HostSplit
from coalition.protocols.secureboost.spec import SecureBoostParams
from coalition.protocols.secureboost.tree import Tree

__all__ = ["FORMAT_VERSION", "guest_artifact", "host_artifact", "load_guest", "load_host"]

FORMAT_VERSION = 1
_GUEST_KIND = "secureboost.guest"
_HOST_KIND = "secureboost.host"


def _check(data: Mapping[str, Any], kind: str) -> SecureBoostParams:
    if data.get("kind") != kind or data.get("format") != FORMAT_VERSION:
        raise InputError("not a SecureBoost model part of this format", expected=kind,
                         got=data.get("kind"), format=data.get("format"))
    try:
        return SecureBoostParams.model_validate(data["params"])
    except (KeyError, ValueError) as exc:
        raise InputError("invalid parameters in the model part") from exc


def guest_artifact(params: SecureBoostParams, init_score: np.ndarray[Any, Any],
                   trees: list[Tree], extra: Mapping[str, Any]) -> dict[str, Any]:
    """The guest's model part."""
    return {"kind": _GUEST_KIND, "format": FORMAT_VERSION,
            "params": params.model_dump(mode="json"),
            "init_score": [float(v) for v in init_score],
            "trees": [t.to_dict() for t in trees], **extra}


def load_guest(data: Mapping[str, Any]) -> tuple[SecureBoostParams, np.ndarray[Any, Any],
                                                  list[Tree]]:
    """Params, initial scores and trees of a guest part."""
    params = _check(data, _GUEST_KIND)
    try:
        trees = [Tree.from_dict(t) for t in data["trees"]]
        init = np.asarray(data["init_score"], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError("corrupt guest model part") from exc
    return params, init, trees


def host_artifact(params: SecureBoostParams, splits: Mapping[tuple[int, int], HostSplit],
                  n_trees: int) -> dict[str, Any]:
    """A host's model part."""
    return {"kind": _HOST_KIND, "format": FORMAT_VERSION,
            "params": params.model_dump(mode="json"), "n_trees": n_trees,
            "splits": [[t, nid, s.feature, s.threshold, s.default_left]
                       for (t, nid), s in sorted(splits.items())]}


def load_host(data: Mapping[str, Any]) -> tuple[SecureBoostParams,
                                                 dict[tuple[int, int], HostSplit], int]:
    """Params, splits and tree count of a host part."""
    params = _check(data, _HOST_KIND)
    try:
        splits = {(int(t), int(nid)): HostSplit(int(f), float(thr), bool(dl))
                  for t, nid, f, thr, dl in data["splits"]}
        n_trees = int(data["n_trees"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError("corrupt host model part") from exc
    return params, splits, n_trees
