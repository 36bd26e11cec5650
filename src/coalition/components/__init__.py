"""Components: declared parameters, inputs and outputs around a protocol; the one registry.

Importing this package registers every built-in component in :data:`REGISTRY`
(``reader``, ``psi``, ``data_split``, ``hetero_lr``, ``hetero_linr``, ``hetero_secureboost``,
``homo_lr``, ``homo_nn``, ``predict``, ``evaluate``, ``feature_statistics``, ``feature_binning``,
``feature_selection``, ``feature_transform``,
``feature_psi``, ``feature_sample``, ``local_model``, ``hetero_lr_multiclass``, ``hetero_poisson``). ``coalition component describe NAME``
prints a component's declaration with its parameters as JSON Schema.
"""

from coalition.components import (
    data_split,
    evaluate,
    feature_binning,
    feature_psi,
    feature_sample,
    feature_selection,
    feature_statistics,
    feature_transform,
    hetero_lr,
    hetero_lr_multiclass,
    hetero_poisson,
    hetero_secureboost,
    homo,
    local_model,
    predict,
    psi,
    reader,
)
from coalition.components.artifacts import (
    Artifact,
    ArtifactKind,
    Dataset,
    DatasetSchema,
    Metrics,
    ModelPart,
    Report,
    digest,
    kind_of,
)
from coalition.components.base import (
    Component,
    Environment,
    Input,
    Output,
    ParamProblem,
    TaskContext,
    slots,
)
from coalition.components.registry import REGISTRY, Registry, register

__all__ = [
    "REGISTRY",
    "Artifact",
    "ArtifactKind",
    "Component",
    "Dataset",
    "DatasetSchema",
    "Environment",
    "Input",
    "Metrics",
    "ModelPart",
    "Output",
    "ParamProblem",
    "Registry",
    "Report",
    "TaskContext",
    "data_split",
    "digest",
    "evaluate",
    "feature_binning",
    "feature_psi",
    "feature_sample",
    "feature_selection",
    "feature_statistics",
    "feature_transform",
    "hetero_lr",
    "hetero_lr_multiclass",
    "hetero_poisson",
    "hetero_secureboost",
    "homo",
    "kind_of",
    "local_model",
    "predict",
    "psi",
    "reader",
    "register",
    "slots",
]
