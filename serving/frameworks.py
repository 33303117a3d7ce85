"""Load the model a user brings, whatever framework saved it, as one Predictor.

`load(model_dir)` reads the extracted artifact (what SageMaker puts in /opt/ml/model) and tells
each file's framework from its contents (magic bytes and structure), not from its name:

- XGBoost: JSON (an object with "learner") and UBJSON model files, and pickled/joblib'd
  Boosters or scikit-learn-API models (XGBClassifier, XGBRegressor, …). Several XGBoost files in
  one artifact are an ensemble answering the mean of their predictions, as SageMaker's XGBoost
  container does (serve_utils.get_loaded_booster/predict). The legacy binary format (XGBoost
  < 2's default, "binf") is refused: XGBoost 3.2 no longer reads it.
- scikit-learn: an estimator or Pipeline in a pickle or joblib stream (compressed or not).
- LightGBM: text model files (`tree` / `version=v…` header).
- ONNX: a protobuf ModelProto, run by onnxruntime on the CPU.

Also read, and skipped as models:
- `inference.json` beside the model (optional): {"features": [names] | count, "classes": [...],
  "output_names": [...], "objective": "...", "model_file": "name"}. It makes labels and the
  feature count explicit and is checked against the model; `model_file` picks the model when
  the artifact holds other files too (they are then ignored).
- Sub-directories named `code`: SageMaker's framework containers keep the user's inference code
  there; it is not a model. Hidden files (names starting with "."), e.g. the `._*` AppleDouble
  files tar writes on a Mac, are skipped too.
- A lone model.tar.gz inside the directory (an artifact copied rather than extracted) is
  unpacked and read as above.

Frameworks are imported only when a model of theirs is found (lightgbm and onnxruntime never
otherwise), so the server and the CLI start fast. Anything that cannot be served raises
ArtifactError naming the file(s) and the problem.
"""

from __future__ import annotations

import bz2
import dataclasses
import json
import lzma
import tempfile
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from serving.artifact import unpack
from serving.predictor import TRANSFORM, ArtifactError, PredictionError, Predictor, Signature

INFERENCE_JSON = "inference.json"
INFERENCE_KEYS = ("features", "classes", "output_names", "objective", "model_file")
CODE_DIR = "code"

NOT_A_MODEL = "not an XGBoost, scikit-learn (joblib/pickle), LightGBM or ONNX model"
FRAMEWORK_NAMES = {
    "xgboost": "XGBoost",
    "sklearn": "scikit-learn",
    "lightgbm": "LightGBM",
    "onnx": "ONNX",
}
# The objective vocabulary of serving.predictor (SageMaker's XGBoost container's).
OBJECTIVE_PREFIXES = ("binary:", "multi:", "reg:", "count:", "survival:", "rank:")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")

_HEAD_BYTES = 64 * 1024


# ---------------------------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------------------------
def load(model_dir: Path, *, threads: int | None = None, allow_pickle: bool = True) -> Predictor:
    """The artifact's model as a Predictor.

    threads: per-model thread count (XGBoost nthread, LightGBM num_threads, onnxruntime
    intra-op threads); None leaves each framework's default. allow_pickle=False refuses pickles
    (unpickling runs code): for artifacts that do not come from the configured model location.
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ArtifactError(f"{model_dir}: not a directory (the extracted model artifact)")
    metadata = _read_inference_json(model_dir)
    files = _model_files(model_dir, metadata.get("model_file"))
    kinds = {name: _sniff(model_dir / name) for name in files}

    unknown = [name for name, kind in kinds.items() if kind is None]
    if unknown:
        others = len(unknown) < len(files)
        hint = f" (name the model in {INFERENCE_JSON}'s model_file to ignore the rest)"
        raise ArtifactError(f"{', '.join(unknown)}: {NOT_A_MODEL}{hint if others else ''}")
    legacy = [name for name, kind in kinds.items() if kind == "xgboost-legacy"]
    if legacy:
        import xgboost as xgb

        raise ArtifactError(
            f"{', '.join(legacy)}: an XGBoost legacy binary model (the format XGBoost < 2 saved "
            f"by default), which XGBoost {xgb.__version__} no longer reads: load it with the "
            "XGBoost that saved it and save it again with save_model('xgboost-model.json') "
            "(or .ubj)"
        )
    tarballs = [name for name, kind in kinds.items() if kind == "tarball"]
    if tarballs:
        if len(files) > 1:
            raise ArtifactError(
                f"{', '.join(tarballs)}: a tar archive next to other files; extract it into the "
                "artifact instead"
            )
        with tempfile.TemporaryDirectory(prefix="byo-model-") as inner:
            unpack(model_dir / tarballs[0], Path(inner))
            return load(Path(inner), threads=threads, allow_pickle=allow_pickle)

    models: dict[str, tuple[str, Any]] = {}  # name → (framework, path or unpickled object)
    for name, kind in kinds.items():
        if kind == "pickle":
            if not allow_pickle:
                raise ArtifactError(
                    f"{name} is a pickle; unpickling runs only for artifacts from the configured "
                    "model location"
                )
            obj = _unpickle(model_dir / name, name)
            models[name] = (_pickled_framework(obj, name), obj)
        else:
            models[name] = (kind, model_dir / name)

    frameworks = {framework for framework, _ in models.values()}
    if len(frameworks) > 1:
        listed = ", ".join(f"{name} ({FRAMEWORK_NAMES[fw]})" for name, (fw, _) in models.items())
        raise ArtifactError(
            f"the artifact holds models of different frameworks: {listed}; serve one model per "
            f"artifact, or name it in {INFERENCE_JSON}'s model_file"
        )
    framework = frameworks.pop()
    if framework != "xgboost" and len(models) > 1:
        raise ArtifactError(
            f"the artifact holds {len(models)} {FRAMEWORK_NAMES[framework]} models "
            f"({', '.join(models)}); only XGBoost models form an ensemble: keep one, or name it "
            f"in {INFERENCE_JSON}'s model_file"
        )
    declared = metadata.get("objective")
    if framework == "xgboost":
        predictor = _load_xgboost(models, threads)
    elif framework == "sklearn":
        ((name, (_, estimator)),) = models.items()
        predictor = _load_sklearn(estimator, name)
    elif framework == "lightgbm":
        ((name, (_, path)),) = models.items()
        predictor = _load_lightgbm(path, name, threads, declared)
    else:
        ((name, (_, path)),) = models.items()
        predictor = _load_onnx(path, name, threads, declared, _feature_count(metadata))
    predictor.signature = _with_metadata(predictor.signature, metadata)
    return predictor


# ---------------------------------------------------------------------------------------------
# Finding and telling the files apart
# ---------------------------------------------------------------------------------------------
def _model_files(model_dir: Path, model_file: str | None) -> list[str]:
    """The artifact's files (relative POSIX names, sorted), without code/, hidden files and
    inference.json; only `model_file` when inference.json names one."""
    files = []
    for path in sorted(model_dir.rglob("*")):
        relative = path.relative_to(model_dir)
        if not path.is_file() or CODE_DIR in relative.parts[:-1]:
            continue
        if any(part.startswith(".") for part in relative.parts):
            continue
        if relative.as_posix() != INFERENCE_JSON:
            files.append(relative.as_posix())
    if not files:
        raise ArtifactError(f"{model_dir}: the artifact holds no files")
    if model_file is None:
        return files
    if model_file not in files:
        raise ArtifactError(
            f"{INFERENCE_JSON} names model_file {model_file!r}, which the artifact does not hold "
            f"(it holds {', '.join(files)})"
        )
    return [model_file]


def _sniff(path: Path) -> str | None:
    """The kind of model file `path` is, from its first bytes: "xgboost", "xgboost-legacy",
    "pickle", "lightgbm", "onnx", "tarball", or None."""
    with path.open("rb") as file:
        head = file.read(_HEAD_BYTES)
        complete = not file.read(1)
    if head.startswith((b"binf", b"bs64")):
        return "xgboost-legacy"
    if head.lstrip()[:1] == b"{" and b"learner" in head[:4096]:
        return "xgboost"  # JSON ({"learner": …) or UBJSON ({L…\x07learner…)
    if _is_pickle(head) or (path.suffix.lower() in PICKLE_SUFFIXES and head):
        return "pickle"
    inner = _decompressed_head(head)
    if inner is not None:
        if _is_pickle(inner):
            return "pickle"  # a compressed joblib stream
        if inner[257:262] == b"ustar":
            return "tarball"
    first_line, _, rest = head.partition(b"\n")
    if first_line.strip() == b"tree" and rest.startswith(b"version=v"):
        return "lightgbm"
    if _is_onnx(head, complete):
        return "onnx"
    return None


def _is_pickle(head: bytes) -> bool:
    return len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5  # PROTO opcode, protocol 2-5


def _decompressed_head(head: bytes) -> bytes | None:
    """The first decompressed bytes of a zlib/gzip/bz2/xz/lzma stream (joblib's compressors,
    and gzip for a tarball), or None when `head` is none of them."""
    if head[:2] == b"\x1f\x8b":
        decompressor: Any = zlib.decompressobj(wbits=31)
    elif head[:1] == b"\x78":
        decompressor = zlib.decompressobj()
    elif head[:3] == b"BZh":
        decompressor = bz2.BZ2Decompressor()
    elif head[:6] == b"\xfd7zXZ\x00" or head[:3] == b"\x5d\x00\x00":
        decompressor = lzma.LZMADecompressor()
    else:
        return None
    try:
        return decompressor.decompress(head, 1024)
    except (zlib.error, OSError, EOFError, lzma.LZMAError):
        return None


# ModelProto's fields (onnx.proto3) and their wire types: 0 varint, 2 length-delimited.
_ONNX_MODEL_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2}


def _is_onnx(head: bytes, complete: bool) -> bool:
    """Whether `head` starts a serialized ONNX ModelProto: ir_version first (protobuf writes
    fields in number order), then only ModelProto's fields, each of its wire type."""
    position, fields = 0, []
    while position < len(head):
        key, position = _varint(head, position)
        if key is None:
            return not complete and bool(fields)
        field, wire = key >> 3, key & 7
        if _ONNX_MODEL_FIELDS.get(field) != wire:
            return False
        value, position = _varint(head, position)
        if value is None:
            return not complete and bool(fields)
        if not fields and not (field == 1 and 1 <= value <= 100):
            return False
        fields.append(field)
        if wire == 2:
            position += value
    # A whole file must end exactly at a field's end and hold a graph.
    return bool(fields) and (not complete or (position == len(head) and 7 in fields))


def _varint(data: bytes, position: int) -> tuple[int | None, int]:
    value = shift = 0
    while position < len(data) and shift < 64:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
    return None, position


# ---------------------------------------------------------------------------------------------
# inference.json
# ---------------------------------------------------------------------------------------------
def _read_inference_json(model_dir: Path) -> dict[str, Any]:
    path = model_dir / INFERENCE_JSON
    if not path.is_file():
        return {}
    try:
        metadata = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{INFERENCE_JSON} is not JSON: {exc}") from None
    if not isinstance(metadata, dict):
        raise ArtifactError(f"{INFERENCE_JSON} must be a JSON object with keys among {_keys()}")
    unknown = sorted(set(metadata) - set(INFERENCE_KEYS))
    if unknown:
        raise ArtifactError(
            f"{INFERENCE_JSON} has unknown keys {', '.join(unknown)}; the allowed keys are "
            f"{_keys()}"
        )
    features = metadata.get("features")
    if features is not None and not (
        (isinstance(features, int) and not isinstance(features, bool) and features > 0)
        or (isinstance(features, list) and features and all(isinstance(f, str) for f in features))
    ):
        raise ArtifactError(
            f"{INFERENCE_JSON}: features must be a feature count or a list of names; "
            f"got {features!r}"
        )
    classes = metadata.get("classes")
    if classes is not None and not (
        isinstance(classes, list)
        and len(classes) > 1
        and all(isinstance(c, str | int | float) for c in classes)
        and len(set(classes)) == len(classes)
    ):
        raise ArtifactError(
            f"{INFERENCE_JSON}: classes must be a list of two or more distinct labels; "
            f"got {classes!r}"
        )
    names = metadata.get("output_names")
    if names is not None and not (
        isinstance(names, list) and names and all(isinstance(n, str) for n in names)
    ):
        raise ArtifactError(
            f"{INFERENCE_JSON}: output_names must be a list of names; got {names!r}"
        )
    objective = metadata.get("objective")
    if objective is not None and not (
        isinstance(objective, str)
        and (objective.startswith(OBJECTIVE_PREFIXES) or objective == TRANSFORM)
    ):
        raise ArtifactError(
            f"{INFERENCE_JSON}: objective {objective!r} is not one this server serves "
            f"({', '.join(p + '*' for p in OBJECTIVE_PREFIXES)} or {TRANSFORM})"
        )
    model_file = metadata.get("model_file")
    if model_file is not None and not isinstance(model_file, str):
        raise ArtifactError(f"{INFERENCE_JSON}: model_file must be a file name; got {model_file!r}")
    return metadata


def _keys() -> str:
    return ", ".join(INFERENCE_KEYS)


def _feature_count(metadata: dict[str, Any]) -> int | None:
    features = metadata.get("features")
    if features is None:
        return None
    return features if isinstance(features, int) else len(features)


def _with_metadata(signature: Signature, metadata: dict[str, Any]) -> Signature:
    """The model's signature with inference.json's labels, checked against the model."""
    source = signature.source
    changes: dict[str, Any] = {}
    count = _feature_count(metadata)
    if count is not None:
        if signature.num_features is not None and count != signature.num_features:
            raise ArtifactError(
                f"{INFERENCE_JSON} lists {count} features; {source} takes {signature.num_features}"
            )
        changes["num_features"] = count
        names = metadata["features"]
        if isinstance(names, list):
            model_names = signature.feature_names
            if model_names is not None and tuple(names) != model_names:
                pairs = zip(names, model_names, strict=False)
                at = next(i for i, (ours, theirs) in enumerate(pairs) if ours != theirs)
                raise ArtifactError(
                    f"{INFERENCE_JSON}'s features differ from {source}'s feature names: "
                    f"feature {at + 1} is {names[at]!r} there, {model_names[at]!r} in the model"
                )
            changes["feature_names"] = tuple(names)
    classes = metadata.get("classes")
    if classes is not None:
        if not signature.is_classifier:
            raise ArtifactError(
                f"{INFERENCE_JSON} lists classes, but {source} is not a classifier "
                f"(objective {signature.objective})"
            )
        if signature.num_class is not None and len(classes) != signature.num_class:
            raise ArtifactError(
                f"{INFERENCE_JSON} lists {len(classes)} classes; {source} has {signature.num_class}"
            )
        changes["classes"] = tuple(classes)
        changes["num_class"] = len(classes)
    output_names = metadata.get("output_names")
    if output_names is not None:
        known = signature.output_names
        if known is not None and len(known) != len(output_names):
            raise ArtifactError(
                f"{INFERENCE_JSON} lists {len(output_names)} output names; {source} has "
                f"{len(known)} outputs"
            )
        changes["output_names"] = tuple(output_names)
    objective = metadata.get("objective")
    if objective is not None and objective != signature.objective:
        raise ArtifactError(
            f"{INFERENCE_JSON} says objective {objective}; {source} is {signature.objective}"
        )
    return dataclasses.replace(signature, **changes)


# ---------------------------------------------------------------------------------------------
# Rows: what every predictor checks before its framework sees them
# ---------------------------------------------------------------------------------------------
def _is_sparse(features: Any) -> bool:
    return type(features).__module__.startswith("scipy.sparse")


def _rows(features: Any, signature: Signature) -> Any:
    """A 2-D float array or CSR matrix whose width the model takes (a CSR matrix may be
    narrower: its absent trailing columns are absent values)."""
    if _is_sparse(features):
        features = features.tocsr()
        width = features.shape[1]
        if signature.num_features is not None and width > signature.num_features:
            raise PredictionError(
                f"rows have {width} columns; {signature.source} takes {signature.num_features} "
                "features"
            )
        return features
    features = np.asarray(features)
    if features.ndim != 2:
        raise PredictionError(f"expected rows of features (a 2-D array), got {features.ndim}-D")
    if features.dtype.kind not in "fiub":
        raise PredictionError(f"expected numbers, got {features.dtype} values")
    width = features.shape[1]
    if signature.num_features is not None and width != signature.num_features:
        raise PredictionError(
            f"rows have {width} values; {signature.source} takes {signature.num_features} features"
        )
    return features


def _dense(features: Any, width: int | None, fill: float, dtype: Any = np.float64) -> np.ndarray:
    """A CSR matrix as a dense array `width` wide whose absent entries are `fill`; a dense
    array as `dtype` (NaN stays NaN)."""
    if not _is_sparse(features):
        return np.asarray(features, dtype=dtype)
    rows = features.shape[0]
    dense = np.full((rows, width or features.shape[1]), fill, dtype=dtype)
    coo = features.tocoo()
    dense[coo.row, coo.col] = coo.data
    return dense


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# ---------------------------------------------------------------------------------------------
# Pickles
# ---------------------------------------------------------------------------------------------
def _unpickle(path: Path, name: str) -> Any:
    """The object in a pickle/joblib file; a scikit-learn estimator pickled by another
    scikit-learn version is refused (sklearn's InconsistentVersionWarning, made an error)."""
    # joblib reads plain pickles too; both come with scikit-learn, which pickles need anyway.
    import joblib
    import sklearn
    from sklearn.exceptions import InconsistentVersionWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        try:
            return joblib.load(path)
        except InconsistentVersionWarning as mismatch:
            saved, serving = mismatch.original_sklearn_version, sklearn.__version__
            raise ArtifactError(
                f"{name} was saved with scikit-learn {saved}; this server has {serving}: re-save "
                f"it with {serving} or serve it with an image that pins {saved}"
            ) from None
        except Exception as exc:  # unpickling runs arbitrary code: any failure is the file's
            raise ArtifactError(
                f"{name}: a pickle that cannot be loaded here ({type(exc).__name__}: "
                f"{_first_line(exc)})"
            ) from None


def _pickled_framework(obj: Any, name: str) -> str:
    module = type(obj).__module__.split(".")[0]
    if module == "xgboost":
        import xgboost as xgb

        if isinstance(obj, xgb.Booster | xgb.XGBModel):
            return "xgboost"
    if (
        not isinstance(obj, type)
        and callable(getattr(obj, "fit", None))
        and (callable(getattr(obj, "predict", None)) or callable(getattr(obj, "transform", None)))
    ):
        return "sklearn"
    raise ArtifactError(
        f"{name}: a pickle of {type(obj).__module__}.{type(obj).__qualname__}, not a model (an "
        "XGBoost Booster or model, or a scikit-learn estimator or pipeline)"
    )


# ---------------------------------------------------------------------------------------------
# XGBoost
# ---------------------------------------------------------------------------------------------
def _load_xgboost(models: dict[str, tuple[str, Any]], threads: int | None) -> Predictor:
    import xgboost as xgb

    members = []  # (name, booster, objective, num_class, num_target, classes)
    for name, (_, model) in models.items():
        classes = None
        if isinstance(model, Path):
            booster = xgb.Booster()
            try:
                booster.load_model(bytearray(model.read_bytes()))
            except xgb.core.XGBoostError as exc:
                raise ArtifactError(
                    f"{name}: XGBoost {xgb.__version__} cannot load it ({_first_line(exc)})"
                ) from None
        elif isinstance(model, xgb.XGBModel):
            try:
                booster = model.get_booster()
            except xgb.core.XGBoostError as exc:  # an estimator pickled before fit
                raise ArtifactError(f"{name}: {_first_line(exc)}") from None
            if getattr(model, "classes_", None) is not None:
                classes = _python_labels(model.classes_)
        else:
            booster = model
        if threads:
            booster.set_param({"nthread": threads})
        learner = json.loads(booster.save_config())["learner"]
        objective = learner["objective"]["name"]
        if not objective.startswith(OBJECTIVE_PREFIXES):
            raise ArtifactError(f"{name}: XGBoost objective {objective} is not one this serves")
        params = learner["learner_model_param"]
        num_class = int(params.get("num_class", 0))
        num_target = int(params.get("num_target", 1))
        if objective.startswith("binary:"):
            num_class = 2
        members.append((name, booster, objective, num_class or None, num_target, classes))

    first = members[0]
    shape = (first[2], first[1].num_features(), first[3], first[4])
    for member in members[1:]:
        other = (member[2], member[1].num_features(), member[3], member[4])
        if other != shape:
            raise ArtifactError(
                f"the ensemble's models differ: {first[0]} is {_describe(shape)}, "
                f"{member[0]} is {_describe(other)}"
            )
    objective, num_features, num_class, _ = shape
    names = first[1].feature_names
    signature = Signature(
        framework="xgboost",
        objective=objective,
        num_features=num_features,
        source=", ".join(member[0] for member in members),
        num_class=num_class,
        classes=first[5],
        feature_names=tuple(names) if names else None,
        framework_version=xgb.__version__,
    )
    return XGBoostPredictor(signature, [member[1] for member in members])


def _describe(shape: tuple[str, int, int | None, int]) -> str:
    objective, num_features, num_class, num_target = shape
    classes = f", {num_class} classes" if num_class else ""
    targets = f", {num_target} targets" if num_target > 1 else ""
    return f"{objective} over {num_features} features{classes}{targets}"


class XGBoostPredictor(Predictor):
    """One booster, or an ensemble answering the mean of its boosters' predictions.

    Dense rows go through inplace prediction (no DMatrix copy), CSR rows through a DMatrix
    (absent entries are missing); both answer what booster.predict(DMatrix(rows)) answers."""

    def __init__(self, signature: Signature, boosters: list[Any]) -> None:
        import xgboost as xgb

        self.signature = signature
        self._boosters = boosters
        self._xgb = xgb
        self._dense = [_dense_predictor(booster) for booster in boosters]

    def predict(self, features: Any) -> np.ndarray:
        rows = _rows(features, self.signature)
        xgb = self._xgb
        try:
            if _is_sparse(rows):
                # In place, as dense rows are: what predict(DMatrix(rows)) answers without the
                # DMatrix (1,000 rows 3.7 -> 3.2 ms, one row 0.50 -> 0.38 ms). It takes the
                # model's width only: a narrower matrix's absent trailing columns are made so.
                width = self.signature.num_features
                if width is not None and rows.shape[1] != width:
                    import scipy.sparse  # here: the CLI imports this module without SciPy

                    rows = scipy.sparse.csr_matrix(
                        (rows.data, rows.indices, rows.indptr), shape=(rows.shape[0], width)
                    )
                scores = [b.inplace_predict(rows, validate_features=False) for b in self._boosters]
            elif rows.dtype in DENSE_DTYPES:
                scores = [predict(rows) for predict in self._dense]
            else:
                scores = [b.inplace_predict(rows, validate_features=False) for b in self._boosters]
        except (xgb.core.XGBoostError, ValueError, TypeError) as exc:
            raise PredictionError(f"the model rejected the rows: {_first_line(exc)}") from None
        return scores[0] if len(scores) == 1 else np.mean(scores, axis=0)


DENSE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _dense_predictor(booster: Any) -> Any:
    """Booster.inplace_predict(rows) for a float32/float64 array, as the one C call it makes
    (XGBoosterPredictFromDense, XGBoost's C API) with its arguments built once: the Python
    wrapper's type dispatch, JSON and result wrapping took 130 of the 210 us a one-row
    prediction cost, more than the trees themselves. Same call, same arguments, same answer;
    an XGBoost without these internals gets the wrapper itself."""
    import ctypes

    try:
        from xgboost.core import _LIB, _check_call, c_bst_ulong, make_jcargs

        call = _LIB.XGBoosterPredictFromDense
    except (ImportError, AttributeError):  # pragma: no cover - another XGBoost's internals
        return lambda rows: booster.inplace_predict(rows, validate_features=False)
    args = make_jcargs(
        type=0,
        training=False,
        iteration_begin=0,
        iteration_end=0,
        missing=np.nan,
        strict_shape=False,
        cache_id=0,
    )
    no_proxy = ctypes.c_void_p()
    byref = ctypes.byref

    def predict(rows: np.ndarray) -> np.ndarray:
        if not rows.shape[0]:
            return booster.inplace_predict(rows, validate_features=False)
        shape = ctypes.POINTER(c_bst_ulong)()
        dims = c_bst_ulong()
        scores = ctypes.POINTER(ctypes.c_float)()
        interface = json.dumps(rows.__array_interface__).encode()
        _check_call(
            call(
                booster.handle, interface, args, no_proxy, byref(shape), byref(dims), byref(scores)
            )
        )
        out = tuple(shape[axis] for axis in range(dims.value))
        return np.ctypeslib.as_array(scores, shape=out).copy()

    return predict


# ---------------------------------------------------------------------------------------------
# scikit-learn
# ---------------------------------------------------------------------------------------------
def _python_label(label: Any) -> Any:
    return label.item() if isinstance(label, np.generic) else label


def _python_labels(labels: Any) -> tuple[Any, ...]:
    return tuple(_python_label(label) for label in labels)


def _load_sklearn(estimator: Any, name: str) -> Predictor:
    import sklearn
    from sklearn.base import is_classifier
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise ArtifactError(f"{name}: the estimator is not fitted (fit it, then save it)") from None
    except TypeError:
        pass  # not an estimator check_is_fitted knows; predict will tell
    classes = output_names = num_class = None
    if callable(getattr(estimator, "predict", None)) and is_classifier(estimator):
        labels = getattr(estimator, "classes_", None)
        if labels is None:
            raise ArtifactError(f"{name}: a classifier without classes_ (its labels)")
        if isinstance(labels, list) and labels and np.ndim(labels[0]):
            raise ArtifactError(
                f"{name}: a multi-output classifier; this server serves one label per row"
            )
        classes = _python_labels(labels)
        num_class = len(classes)
        probabilities = hasattr(estimator, "predict_proba")
        if num_class == 2:
            objective = "binary:logistic" if probabilities else "binary:hinge"
        else:
            objective = "multi:softprob" if probabilities else "multi:softmax"
    elif callable(getattr(estimator, "predict", None)):
        objective = "reg:squarederror"  # a regressor, or any estimator answering a value per row
    else:
        objective = TRANSFORM
        try:
            output_names = tuple(str(n) for n in estimator.get_feature_names_out())
        except (AttributeError, ValueError, TypeError, NotFittedError):
            output_names = None
    num_features = getattr(estimator, "n_features_in_", None)
    feature_names = getattr(estimator, "feature_names_in_", None)
    if feature_names is not None:
        feature_names = tuple(str(f) for f in feature_names)
    signature = Signature(
        framework="sklearn",
        objective=objective,
        num_features=int(num_features) if num_features is not None else None,
        source=name,
        num_class=num_class,
        classes=classes,
        feature_names=feature_names,
        output_names=output_names,
        framework_version=sklearn.__version__,
    )
    return SklearnPredictor(signature, estimator)


class SklearnPredictor(Predictor):
    """predict_proba for classifiers that have it (the positive class's column for two
    classes), else the predicted class's index; predict for regressors; transform for
    transformers. CSR rows are densified (absent = 0, as scikit-learn reads sparse input)."""

    def __init__(self, signature: Signature, estimator: Any) -> None:
        self.signature = signature
        self._estimator = estimator
        self._index = {label: i for i, label in enumerate(signature.classes or ())}
        self._fitted_with_names = signature.feature_names is not None

    def predict(self, features: Any) -> np.ndarray:
        rows = _dense(_rows(features, self.signature), self.signature.num_features, 0.0)
        if not self._fitted_with_names:
            return self._predict(rows)
        # Fitted on a DataFrame, served arrays with the same columns in the same order:
        # scikit-learn's warning that the rows have no column names would fire on every request.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "X does not have valid feature names", UserWarning)
            return self._predict(rows)

    def _predict(self, rows: np.ndarray) -> np.ndarray:
        objective = self.signature.objective
        try:
            if objective in ("binary:logistic", "multi:softprob"):
                probabilities = self._estimator.predict_proba(rows)
                return probabilities[:, 1] if objective == "binary:logistic" else probabilities
            if objective in ("binary:hinge", "multi:softmax"):
                labels = self._estimator.predict(rows)
                return np.array([self._index[_python_label(x)] for x in labels], dtype=float)
            if objective == TRANSFORM:
                out = self._estimator.transform(rows)
                return np.asarray(out.toarray() if _is_sparse(out) else out)
            return np.asarray(self._estimator.predict(rows))
        except (ValueError, TypeError, KeyError) as exc:
            raise PredictionError(f"the model rejected the rows: {_first_line(exc)}") from None


# ---------------------------------------------------------------------------------------------
# LightGBM
# ---------------------------------------------------------------------------------------------
# LightGBM's objective (the first word of the model file's objective= line) → the vocabulary.
# Every reg:* is served alike (a value per row); those without an XGBoost twin take the nearest.
LIGHTGBM_OBJECTIVES = {
    "binary": "binary:logistic",
    "cross_entropy": "binary:logistic",
    "cross_entropy_lambda": "binary:logistic",
    "multiclass": "multi:softprob",
    "multiclassova": "multi:softprob",
    "regression": "reg:squarederror",
    "regression_l1": "reg:absoluteerror",
    "huber": "reg:pseudohubererror",
    "fair": "reg:pseudohubererror",
    "quantile": "reg:quantileerror",
    "mape": "reg:absoluteerror",
    "gamma": "reg:gamma",
    "tweedie": "reg:tweedie",
    "poisson": "count:poisson",
    "lambdarank": "rank:pairwise",
    "rank_xendcg": "rank:pairwise",
}


def _lightgbm_header(path: Path) -> dict[str, str]:
    """The key=value lines before the first tree."""
    header = {}
    with path.open("rb") as file:
        for raw in file:
            line = raw.decode("utf-8", "replace").strip()
            if line.startswith("Tree="):
                break
            key, sep, value = line.partition("=")
            if sep:
                header[key] = value
    return header


def _load_lightgbm(path: Path, name: str, threads: int | None, declared: str | None) -> Predictor:
    import lightgbm

    header = _lightgbm_header(path)
    words = header.get("objective", "").split()
    objective = LIGHTGBM_OBJECTIVES.get(words[0]) if words else None
    if objective is None:
        if declared is None:
            raise ArtifactError(
                f"{name}: LightGBM objective {' '.join(words) or '(none)'!r} has no mapping here; "
                f"name the objective in {INFERENCE_JSON} (e.g. reg:squarederror for raw scores)"
            )
        objective = declared
    try:
        booster = lightgbm.Booster(model_file=str(path))
    except lightgbm.basic.LightGBMError as exc:
        raise ArtifactError(f"{name}: LightGBM cannot load it ({_first_line(exc)})") from None
    num_class = None
    if objective.startswith("multi:"):
        num_class = int(header.get("num_class", "0")) or None
    elif objective.startswith("binary:"):
        num_class = 2
    names = tuple(booster.feature_name())
    default_names = tuple(f"Column_{i}" for i in range(len(names)))
    signature = Signature(
        framework="lightgbm",
        objective=objective,
        num_features=booster.num_feature(),
        source=name,
        num_class=num_class,
        feature_names=None if names == default_names else names,
        framework_version=lightgbm.__version__,
    )
    return LightGBMPredictor(signature, booster, threads)


class LightGBMPredictor(Predictor):
    """Booster.predict; CSR rows are densified with NaN for absent entries (absent = missing,
    as for XGBoost: LightGBM itself would read them as zeros)."""

    def __init__(self, signature: Signature, booster: Any, threads: int | None) -> None:
        import lightgbm

        self.signature = signature
        self._booster = booster
        self._options = {"num_threads": threads} if threads else {}
        self._error = lightgbm.basic.LightGBMError

    def predict(self, features: Any) -> np.ndarray:
        rows = _dense(_rows(features, self.signature), self.signature.num_features, np.nan)
        try:
            return np.asarray(self._booster.predict(rows, **self._options))
        except (self._error, ValueError, TypeError) as exc:
            raise PredictionError(f"the model rejected the rows: {_first_line(exc)}") from None


# ---------------------------------------------------------------------------------------------
# ONNX
# ---------------------------------------------------------------------------------------------
_ONNX_FLOATS = {"tensor(float)": np.float32, "tensor(double)": np.float64}
_ONNX_LABELS = ("tensor(int64)", "tensor(int32)", "tensor(string)")


def _load_onnx(
    path: Path, name: str, threads: int | None, declared: str | None, feature_count: int | None
) -> Predictor:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or 0  # 0: onnxruntime's default (one per core)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: warnings about unused initializers are noise
    try:
        session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime's errors share no base class but Exception
        raise ArtifactError(f"{name}: onnxruntime cannot load it ({_first_line(exc)})") from None

    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ArtifactError(
            f"{name} takes {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); this server "
            "feeds one [rows, features] float tensor"
        )
    (feed,) = inputs
    if feed.type not in _ONNX_FLOATS or len(feed.shape) != 2:
        raise ArtifactError(
            f"{name}'s input {feed.name} is {feed.type} {feed.shape}; this server feeds one "
            "[rows, features] float tensor"
        )
    width = feed.shape[1] if isinstance(feed.shape[1], int) else None
    outputs = session.get_outputs()
    described = ", ".join(f"{o.name} {o.type}" for o in outputs)
    if (
        len(outputs) == 2
        and outputs[0].type in _ONNX_LABELS
        and (outputs[1].type in _ONNX_FLOATS or outputs[1].type.startswith("seq(map("))
    ):
        kind, output = "classifier", outputs[1]
    elif len(outputs) == 1 and outputs[0].type in _ONNX_FLOATS:
        kind, output = "values", outputs[0]
    else:
        raise ArtifactError(
            f"{name} outputs {described}; this server serves one float output (a regressor) or a "
            "label and probabilities (a classifier, as skl2onnx writes them)"
        )
    predictor = OnnxPredictor(session, feed.name, _ONNX_FLOATS[feed.type], output.name)

    classes = num_class = None
    if kind == "classifier":
        zipmap = output.type.startswith("seq(map(")
        k = output.shape[1] if not zipmap and len(output.shape) == 2 else None
        if zipmap or not isinstance(k, int):
            count = width or feature_count
            if count is None:
                raise ArtifactError(
                    f"{name}: its input has no fixed feature count and its class count shows only "
                    f"in its answers; list the features in {INFERENCE_JSON}"
                )
            probe = predictor.run(np.zeros((1, count), dtype=predictor.dtype))
            if zipmap:
                classes = predictor.map_keys = _python_labels(probe[0].keys())
            k = len(probe[0])
        num_class = k
        objective = "binary:logistic" if k == 2 else "multi:softprob"
        if declared is not None and declared != objective:
            raise ArtifactError(
                f"{INFERENCE_JSON} says objective {declared}; {name} is a classifier with {k} "
                f"classes ({objective})"
            )
    else:
        objective = declared or "reg:squarederror"
        if objective in ("multi:softprob", "multi:softmax"):
            k = output.shape[1] if len(output.shape) == 2 else None
            num_class = k if isinstance(k, int) else None
        elif objective.startswith("binary:"):
            num_class = 2
    predictor.signature = Signature(
        framework="onnx",
        objective=objective,
        num_features=width,
        source=name,
        num_class=num_class,
        classes=classes,
        framework_version=onnxruntime.__version__,
    )
    return predictor


class OnnxPredictor(Predictor):
    """An onnxruntime session fed float32 rows (NaN stays NaN; CSR rows densified with zeros).
    A classifier answers its probabilities (a ZipMap's maps in class order); a one-column value
    is answered as (n,)."""

    def __init__(self, session: Any, feed: str, dtype: Any, output: str) -> None:
        self._session = session
        self._feed = feed
        self._output = output
        self.dtype = dtype
        self.map_keys: tuple[Any, ...] = ()  # a ZipMap's classes, in column order

    def run(self, rows: np.ndarray) -> Any:
        return self._session.run([self._output], {self._feed: rows})[0]

    def predict(self, features: Any) -> np.ndarray:
        signature = self.signature
        rows = _dense(_rows(features, signature), signature.num_features, 0.0, self.dtype)
        try:
            out = self.run(rows)
        except Exception as exc:  # onnxruntime's errors share no base class but Exception
            raise PredictionError(f"the model rejected the rows: {_first_line(exc)}") from None
        if isinstance(out, list):  # ZipMap: one {class: probability} map per row
            out = np.array([[row[c] for c in self.map_keys] for row in out], dtype=np.float32)
        else:
            out = np.asarray(out)
        if signature.objective == "binary:logistic" and out.ndim == 2 and out.shape[1] == 2:
            return out[:, 1]
        if out.ndim == 2 and out.shape[1] == 1 and signature.objective != TRANSFORM:
            return out[:, 0]
        return out
