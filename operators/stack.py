"""A typed view of the platform stack's outputs (`terraform output -json`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from operators.errors import ConfigError


@dataclass(frozen=True)
class StackOutputs:
    data_bucket: str
    endpoint_name: str
    job_table: str
    job_queue: str
    job_definition: str
    variant_names: tuple[str, ...]

    @classmethod
    def from_file(cls, path: Path) -> StackOutputs:
        try:
            raw = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read stack outputs from {path}: {exc}") from None
        values = {
            name: (v["value"] if isinstance(v, dict) and "value" in v else v)
            for name, v in raw.items()
        }
        missing = [f for f in cls.__dataclass_fields__ if f not in values]
        if missing:
            raise ConfigError(
                f"{path} lacks the stack outputs {', '.join(missing)}; "
                "run `make apply` (or pass the outputs of the platform stack)"
            )
        return cls(
            data_bucket=values["data_bucket"],
            endpoint_name=values["endpoint_name"],
            job_table=values["job_table"],
            job_queue=values["job_queue"],
            job_definition=values["job_definition"],
            variant_names=tuple(values["variant_names"]),
        )
