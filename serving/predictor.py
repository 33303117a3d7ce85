"""What every model the core serves looks like, whatever framework saved it.

A Predictor answers rows with what its framework's own predict answers, shaped as SageMaker's
XGBoost container shapes XGBoost's predictions for the same kind of model, so that one output
layer (serving.outputs) serves every framework with the container's semantics:

| objective (the container's vocabulary) | predict() returns, for n rows           |
|----------------------------------------|------------------------------------------|
| binary:logistic                        | (n,) probability of the positive class   |
| binary:logitraw                        | (n,) margin (log-odds)                    |
| binary:hinge                           | (n,) 0.0 or 1.0                           |
| multi:softprob                         | (n, k) one probability per class          |
| multi:softmax                          | (n,) class index, as a float              |
| reg:* / count:* / survival:* / rank:*  | (n,) value, or (n, m) for m targets      |
| transform (a transformer, not a model) | (n, m) transformed rows                   |

Other frameworks map onto it: a scikit-learn/LightGBM/ONNX classifier with two classes is
binary:logistic, with more multi:softprob; one without probabilities is binary:hinge or
multi:softmax; a regressor is reg:squarederror; a transformer-only pipeline is transform.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

TRANSFORM = "transform"


class ArtifactError(ValueError):
    """A model artifact that cannot be served: the message names the file and the problem."""


@dataclass(frozen=True)
class Signature:
    framework: str  # "xgboost" | "sklearn" | "lightgbm" | "onnx"
    objective: str  # see the table above
    num_features: int | None  # None: the model does not say (any width is passed through)
    source: str  # the artifact file the model came from, for messages
    num_class: int | None = None  # classifiers: how many classes
    classes: tuple[Any, ...] | None = None  # class labels in column order; None → 0..k-1
    feature_names: tuple[str, ...] | None = None
    output_names: tuple[str, ...] | None = None  # column names of (n, m) outputs
    framework_version: str = ""  # the version serving it

    @property
    def is_classifier(self) -> bool:
        return self.objective.startswith(("binary:", "multi:"))


class Predictor(ABC):
    """A loaded model. `predict` takes a dense float array (NaN = missing) or a SciPy CSR
    matrix (libsvm / sparse recordio-protobuf: absent entries are missing for XGBoost and
    LightGBM, zero for the others, as each framework treats sparse input) and raises
    PredictionError (serving.predictor) for rows the model rejects."""

    signature: Signature

    @abstractmethod
    def predict(self, features: Any) -> np.ndarray: ...


class PredictionError(Exception):
    """The model refused the rows (its own message, first line); answered as 400."""
