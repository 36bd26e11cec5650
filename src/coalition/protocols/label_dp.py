"""Label differential privacy by randomised response, for the label owner of a vertical job.

Randomised response (Warner, JASA 1965) keeps each label with probability
``e^ε / (e^ε + K − 1)`` and otherwise replaces it by one of the other ``K − 1`` classes
uniformly; every label is then ε-label-DP (δ = 0): the output distribution of one row's label
changes by at most ``e^ε`` when its true label changes (Ghazi et al., NeurIPS 2021, "Deep
Learning with Label Differential Privacy", the RR baseline). The guest applies it to its labels
*before* training, so everything computed from them afterwards (gradients sent to hosts,
split gains, the model, predictions) is post-processing and ε-label-DP as well, against hosts,
the arbiter and anyone who sees the model, with no accountant needed: one ε for the whole job.

It protects labels, not features or membership, and costs accuracy: the model is trained on
labels of which a fraction ``1 − keep`` is wrong. Noise comes from a numpy PCG64 generator
seeded from :mod:`secrets`.
"""

from __future__ import annotations

import math
import secrets
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import InputError

__all__ = ["keep_probability", "randomised_response"]


def keep_probability(epsilon: float, classes: int) -> float:
    """Probability that randomised response keeps a label: ``e^ε / (e^ε + K − 1)``."""
    if epsilon <= 0 or classes < 2:
        raise InputError("label DP needs epsilon > 0 and at least two classes",
                         classes=classes)
    return 1.0 / (1.0 + (classes - 1) * math.exp(-epsilon))


def randomised_response(labels: NDArray[Any], epsilon: float,
                        classes: NDArray[Any] | None = None) -> NDArray[Any]:
    """``labels`` with each entry kept with :func:`keep_probability` and otherwise replaced by
    another of ``classes`` (default: the values present) uniformly; same dtype and shape."""
    y = np.asarray(labels)
    values = np.unique(y) if classes is None else np.asarray(classes)
    k = len(values)
    if k < 2 or not np.isin(y, values).all():
        raise InputError("label DP needs class labels from at least two classes",
                         classes=int(k))
    keep = keep_probability(epsilon, k)
    rng = np.random.Generator(np.random.PCG64(secrets.randbits(128)))
    index = np.searchsorted(values, y)
    flip = rng.random(y.shape) >= keep
    # another class uniformly: shift by 1..K-1 modulo K
    shifted = (index + rng.integers(1, k, size=y.shape)) % k
    out: NDArray[Any] = values[np.where(flip, shifted, index)].astype(y.dtype)
    return out
