"""The per-request lookups the shims compute once answer what moto computed every time."""

from __future__ import annotations

import inspect
import os

import moto
import moto.backends
import moto.core.responses
from moto.s3.responses import S3Response
from moto.sagemaker.responses import SageMakerResponse

from localaws import shims


def test_moto_modules_and_method_names_are_moto_own_answers():
    shims.apply()
    root = os.path.dirname(moto.__file__)
    packages = sorted(
        name
        for name in os.listdir(root)
        if os.path.isdir(os.path.join(root, name)) and not name.startswith("__")
    )
    assert list(moto.backends.list_of_moto_modules()) == packages
    assert "s3" in moto.backends.list_of_moto_modules()
    for cls in (S3Response, SageMakerResponse):
        names = [n for n, _ in inspect.getmembers(cls, predicate=inspect.isfunction)]
        assert moto.core.responses.method_names_from_class(cls) == names
        assert moto.core.responses.method_names_from_class(cls) is (
            moto.core.responses.method_names_from_class(cls)
        )  # computed once per class
