"""A typed view of the platform stack's outputs, read through operators.config."""

from __future__ import annotations

from dataclasses import dataclass, fields

from operators.config import Settings
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
    def from_settings(cls, settings: Settings) -> StackOutputs:
        values = {f.name: settings.get(f.name) for f in fields(cls)}
        missing = [name for name, value in values.items() if value is None]
        if missing:
            raise ConfigError(
                f"{settings.outputs_source} lacks the stack outputs {', '.join(missing)}; "
                "run `make apply` (or pass the outputs of the platform stack)"
            )
        return cls(**{**values, "variant_names": tuple(values["variant_names"])})
