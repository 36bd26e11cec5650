"""Polynomial approximations of the logistic sigmoid that secure protocols can evaluate.

Neither secret shares nor additively homomorphic ciphertexts can be put through ``exp``, so
vertical LR replaces ``σ(z) = 1/(1 + e^-z)`` by an odd polynomial around ``1/2``:

* ``taylor1``: ``1/2 + z/4``, the degree-1 Taylor expansion at 0 (Hardy et al. 2017; FATE's
  hetero LR). Any linear approximation makes the gradient that of a least-squares fit, which
  costs real accuracy on data with a wide score range (default_credit: AUC 0.716 against
  scikit-learn's 0.724 on the same rows).
* ``poly3``: ``1/2 + c1·z + c3·z³``, the least-squares cubic on ``[-6, 6]``, the approach of
  Kim et al., "Secure logistic regression based on homomorphic encryption: design and
  evaluation" (JMIR Med Inform 2018; they fit on ``[-8, 8]``) and SecretFlow SS-LR's
  ``sig_type='t3'``-style options. Its error is below 0.06 on ``[-4, 4]`` (0.082 on
  ``[-6, 6]``; the Taylor line is off by 0.52 at ±4), and it turns back beyond
  ``|z| ≈ 4.4``, so it is meant to be used with clipped standardised features
  (``feature_clip``); the divergence guard stops a run whose scores left that range.

:func:`sigmoid_poly` gives the coefficients ``(c0, c1, c3)``; :func:`plain_sigmoid` evaluates
them on plaintext (tests, references).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["POLY3_RANGE", "plain_sigmoid", "sigmoid_poly"]

#: The interval the cubic is fitted on (least squares, 2001 evenly spaced points).
POLY3_RANGE = 6.0
#: ``numpy.polyfit(z, σ(z), 3)`` on ``linspace(-6, 6, 2001)``; the even coefficients vanish.
_POLY3 = (0.5, 0.18055584, -0.0030887916)
_TAYLOR1 = (0.5, 0.25, 0.0)


def sigmoid_poly(kind: str) -> tuple[float, float, float]:
    """``(c0, c1, c3)`` of ``σ(z) ≈ c0 + c1·z + c3·z³`` for ``taylor1`` or ``poly3``."""
    return _POLY3 if kind == "poly3" else _TAYLOR1


def plain_sigmoid(kind: str, z: NDArray[np.float64]) -> NDArray[np.float64]:
    """The approximation evaluated on plaintext scores."""
    c0, c1, c3 = sigmoid_poly(kind)
    out: NDArray[np.float64] = c0 + c1 * z + c3 * z**3
    return out
