"""The model artifact contract: model.tar.gz as SageMaker hands it to a container.

The project's own models are one member, `xgboost-model` (XGBoost JSON that SageMaker's
xgboost:1.7-1 image reads as XGBoost 3.x does); any artifact (a preprocessor, a model with its
inference.json) is written by write_members. Both use fixed tar/gzip metadata, so that the same
contents give the same bytes and their sha256 can address them. Every image carries this module:
the serving container and the local hosting unpack artifacts with it (serving.frameworks tells
what they hold), the pipeline and `make model` write them.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import xgboost as xgb

# xgboost is imported where a booster is built: importing it imports scikit-learn (about 2 s),
# which the operators' commands that only move artifacts around would otherwise pay.

MODEL_FILE = "xgboost-model"


def sagemaker_model_json(booster: xgb.Booster) -> bytes:
    """The booster as JSON that XGBoost 1.7 (SageMaker's xgboost:1.7-1 image) reads correctly.

    XGBoost >= 3 writes base_score as a vector ("[1.7E-3]"); 1.7 misparses it and silently
    shifts every prediction (by up to 0.92 in probability on the sample model, measured). A
    scalar base_score is read identically by 1.7 and 3.x (tests/integration/test_model_compat.py).
    """
    model = json.loads(booster.save_raw("json"))
    params = model["learner"]["learner_model_param"]
    base_score = params["base_score"].strip("[]")
    if "," in base_score:
        raise ValueError("multi-target base_score cannot be written for XGBoost 1.7")
    params["base_score"] = base_score
    return json.dumps(model, separators=(",", ":")).encode()


def write_tarball(model_bytes: bytes, path: Path) -> None:
    """model.tar.gz holding only `xgboost-model`, with fixed metadata (reproducible bytes)."""
    write_members({MODEL_FILE: model_bytes}, path)


def write_members(members: dict[str, bytes], path: Path) -> None:
    """A tar.gz of these members (in this order) with fixed metadata: the same contents give
    the same bytes, hence the same sha256 (any artifact: a preprocessor, a model with
    inference.json)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(body))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out, gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())


def read_model_bytes(tarball: Path | bytes) -> bytes:
    """The `xgboost-model` member of a model.tar.gz (a file, or its bytes)."""
    source = {"fileobj": io.BytesIO(tarball)} if isinstance(tarball, bytes) else {"name": tarball}
    with tarfile.open(mode="r:gz", **source) as tar:
        try:
            member = tar.extractfile(MODEL_FILE)
        except KeyError:
            member = None
        if member is None:
            where = "the model.tar.gz" if isinstance(tarball, bytes) else tarball
            raise ValueError(f"{where} has no {MODEL_FILE} file")
        return member.read()


def booster_from_bytes(model_bytes: bytes) -> xgb.Booster:
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(bytearray(model_bytes))
    return booster


def load_booster(tarball: Path | bytes) -> xgb.Booster:
    """A booster from a model.tar.gz as SageMaker unpacks it (the `xgboost-model` member)."""
    return booster_from_bytes(read_model_bytes(tarball))


def unpack(tarball: Path, target: Path) -> None:
    """Extract a model.tar.gz as SageMaker does into /opt/ml/model (no paths outside target)."""
    with tarfile.open(tarball, "r:gz") as tar:
        tar.extractall(target, filter="data")
