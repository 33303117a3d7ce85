"""The data bucket's layout: what each prefix holds, as the storage module exports it.

The stack output `data_prefixes` (environment BYO_DATA_PREFIXES, as JSON, in the jobs) is the
one source; the defaults below are the storage module's own, for a bucket that has no stack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from operators.errors import ConfigError
from operators.s3 import join_uri


@dataclass(frozen=True)
class Layout:
    bucket: str
    input: str = "input/"  # CSVs to score; input/<name>.csv triggers a Batch job
    output: str = "output/"  # output/<timestamp>-<name>.csv
    errors: str = "errors/"  # rejected rows with line and reason
    captures: str = "captures/"  # endpoint data capture (SageMaker JSONL)
    ground_truth: str = "ground-truth/"  # ground-truth JSONL, yyyy/mm/dd/hh/
    monitoring: str = "monitoring/"  # baselines, statistics, violations, reports
    models: str = "models/"  # model artifacts, content-addressed
    pipelines: str = "pipelines/"  # pipelines' step outputs and run records, <pipeline>/
    checkpoints: str = "checkpoints/"  # the Batch job's committed chunks
    datasets: str = "datasets/"  # labelled training data; a new object starts a retraining
    async_input: str = "async/input/"  # InvokeEndpointAsync inputs (byo invoke --async)

    @classmethod
    def from_prefixes(cls, bucket: str, prefixes: Any) -> Layout:
        """From the storage module's prefixes: a mapping, or its JSON (as the jobs get it)."""
        if isinstance(prefixes, str):
            try:
                prefixes = json.loads(prefixes) if prefixes.strip() else {}
            except json.JSONDecodeError as exc:
                raise ConfigError(f"data_prefixes is not JSON: {exc}") from None
        prefixes = prefixes or {}
        if not isinstance(prefixes, dict):
            raise ConfigError(f"data_prefixes must map names to prefixes, not {prefixes!r}")
        known = {f.name for f in fields(cls)} - {"bucket"}
        bad = {k: v for k, v in prefixes.items() if k in known and not str(v).endswith("/")}
        if bad:
            raise ConfigError(f"data_prefixes must end in '/': {bad}")
        return cls(bucket=bucket, **{k: v for k, v in prefixes.items() if k in known})

    @classmethod
    def from_settings(cls, settings: Any) -> Layout:
        """The platform's bucket and its prefixes from the settings (stack outputs data_bucket
        and data_prefixes, or BYO_DATA_BUCKET / BYO_DATA_PREFIXES)."""
        return cls.from_prefixes(settings.require("data_bucket"), settings.get("data_prefixes"))

    def uri(self, key: str = "") -> str:
        return join_uri(self.bucket, key)
