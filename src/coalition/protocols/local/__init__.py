"""Single-party models (单边建模): one party fits a scikit-learn model on its own columns.

No messages: the party's rows, labels and model never leave it. A federated job uses it as a
baseline in the same DAG ("what the guest reaches alone") or as a party's own model. The fitted
model is stored as plain JSON (:class:`LocalModel`: coefficients in the standardised space plus
the party's :class:`~coalition.protocols.linear.data.Standardizer`), never pickled, so it can
be signed, published and served like any other model part.
"""

from coalition.protocols.local.model import ARTIFACT_KIND, LocalModel, LocalModelParams

__all__ = ["ARTIFACT_KIND", "LocalModel", "LocalModelParams"]
