"""Train the example's model: a decision tree on iris, packed as SageMaker's model.tar.gz.

    python examples/byo-container/train.py --out-dir build/byo-container

model.tar.gz holds what the example's image reads from /opt/ml/model:
- decision-tree-model.pkl: the fitted sklearn.tree.DecisionTreeClassifier (joblib); it predicts
  class indexes;
- inference.json: {"features": the 4 feature names in column order, "classes": the species name
  of each class index}.

Beside it, evaluation.json: the tree's accuracy and weighted F1 on a held-out fifth of iris, in
Model Monitor's model-quality format (multiclass_classification_metrics), which
`byo model register --metrics` reads.

The same inputs give the same bytes (fixed random_state, tar and gzip without times or owners),
so a re-run does not look like a new model version.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import tarfile
from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

MODEL_FILE = "decision-tree-model.pkl"
METADATA_FILE = "inference.json"


def train() -> tuple[DecisionTreeClassifier, dict, dict]:
    """The tree, inference.json's content, and the evaluation."""
    iris = load_iris()  # shipped with scikit-learn: no download
    x_train, x_test, y_train, y_test = train_test_split(
        iris.data, iris.target, test_size=0.2, stratify=iris.target, random_state=0
    )
    tree = DecisionTreeClassifier(random_state=0).fit(x_train, y_train)
    predicted = tree.predict(x_test)
    metadata = {
        "features": list(iris.feature_names),
        "classes": [str(name) for name in iris.target_names],
    }

    def metric(value: float) -> dict:
        return {"value": float(value), "standard_deviation": "NaN"}

    evaluation = {
        "version": 0.0,
        "multiclass_classification_metrics": {
            "accuracy": metric(accuracy_score(y_test, predicted)),
            "weighted_f1": metric(f1_score(y_test, predicted, average="weighted")),
        },
    }
    return tree, metadata, evaluation


def _member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def write_model(tree: DecisionTreeClassifier, metadata: dict, path: Path) -> None:
    pickled = io.BytesIO()
    joblib.dump(tree, pickled)
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _member(tar, MODEL_FILE, pickled.getvalue())
        _member(tar, METADATA_FILE, (json.dumps(metadata, indent=2) + "\n").encode())
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(packed.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, required=True, help="where model.tar.gz goes")
    args = parser.parse_args(argv)
    tree, metadata, evaluation = train()
    target = args.out_dir / "model.tar.gz"
    write_model(tree, metadata, target)
    (args.out_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2) + "\n")
    accuracy = evaluation["multiclass_classification_metrics"]["accuracy"]["value"]
    print(f"wrote {target} and evaluation.json (held-out accuracy {accuracy:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
