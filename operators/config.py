"""Where the operators find the platform: one lookup order for every setting.

    CLI option → environment variable BYO_<NAME> → .env file (BYO_<NAME>=…) → Terraform outputs
    → default

Terraform outputs come from `--outputs FILE` / BYO_OUTPUTS (a saved `terraform output -json`),
else from `terraform output -json` of the stack (BYO_STACK_DIR, default terraform/stacks/platform,
with the project's CLI config and the target's data dir as `make` uses them; BYO_TARGET, default
local).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dotenv import dotenv_values

from operators.errors import ConfigError

DEFAULT_STACK_DIR = Path("terraform/stacks/platform")


def _plain(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """`terraform output -json` wraps each value as {"value": …, "type": …}."""
    return {
        k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in outputs.items()
    }


def terraform_env(stack_dir: Path, target: str) -> dict[str, str]:
    """The environment `make` gives Terraform: the project's CLI config and the target's data
    dir of the stack (unless the caller already chose them)."""
    from operators.terraform import write_cli_config

    resolved = stack_dir.resolve()
    root = resolved.parents[2] if len(resolved.parents) > 2 else Path.cwd()
    env = dict(os.environ)
    env.setdefault("TF_CLI_CONFIG_FILE", str(write_cli_config(root / "build" / "terraform.rc")))
    # As the Makefile names them: the platform's under the target, another stack's beside it.
    data_dir = target if resolved.name == "platform" else f"{target}-{resolved.name}"
    env.setdefault("TF_DATA_DIR", str(root / "build" / "tf" / data_dir))
    return env


def terraform_outputs(stack_dir: Path, target: str) -> dict[str, Any]:
    env = terraform_env(stack_dir, target)
    try:
        result = subprocess.run(
            ["terraform", f"-chdir={stack_dir}", "output", "-json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except FileNotFoundError:
        raise ConfigError("terraform is not installed: pass --outputs FILE instead") from None
    if result.returncode != 0:
        raise ConfigError(
            f"cannot read the stack's outputs in {stack_dir} ({result.stderr.strip()[:300]}); "
            "run `make apply` first, or pass --outputs FILE"
        )
    outputs = _plain(json.loads(result.stdout or "{}"))
    if not outputs:
        raise ConfigError(f"the stack in {stack_dir} has no outputs: run `make apply` first")
    return outputs


class StackOutputsReader:
    """The stack's outputs, read on first use and then kept: reading them may run `terraform
    output`. A Settings and the copies made from it share one reader."""

    def __init__(self, outputs_file: Path | None, stack_dir: Path, target: str) -> None:
        self.source = (outputs_file, stack_dir, target)
        self._outputs: dict[str, Any] | None = None

    def read(self) -> dict[str, Any]:
        if self._outputs is None:
            outputs_file, stack_dir, target = self.source
            if outputs_file:
                try:
                    self._outputs = _plain(json.loads(outputs_file.read_text()))
                except (OSError, json.JSONDecodeError) as exc:
                    raise ConfigError(
                        f"cannot read stack outputs from {outputs_file}: {exc}"
                    ) from None
            else:
                self._outputs = terraform_outputs(stack_dir, target)
        return self._outputs


@dataclass(frozen=True)
class Settings:
    """Settings resolved in the documented order; `get(name)` for one, `require` to insist.

    A value: made once (the CLI makes it from its root options) and never written to. A command
    that needs a variation takes a copy, `with_options(endpoint_name=...)`, which shares the
    stack's outputs already read.
    """

    options: Mapping[str, Any] = field(default_factory=dict)  # CLI options; None: not given
    env: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False)
    dotenv: Path | None = Path(".env")
    outputs_file: Path | None = None
    outputs_reader: StackOutputsReader | None = field(default=None, repr=False, compare=False)
    dotenv_entries: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        given = {k: v for k, v in self.options.items() if v is not None}
        object.__setattr__(self, "options", MappingProxyType(given))
        values = dotenv_values(self.dotenv) if self.dotenv and self.dotenv.is_file() else {}
        object.__setattr__(
            self,
            "dotenv_entries",
            MappingProxyType({k: v for k, v in values.items() if v is not None}),
        )
        outputs_file = self.outputs_file or self._lookup_raw("outputs")
        source = (
            Path(outputs_file) if outputs_file else None,
            Path(self._lookup_raw("stack_dir") or DEFAULT_STACK_DIR),
            self._lookup_raw("target") or "local",
        )
        if self.outputs_reader is None or self.outputs_reader.source != source:
            object.__setattr__(self, "outputs_reader", StackOutputsReader(*source))

    def with_options(self, **options: Any) -> Settings:
        """A copy with these CLI options over the current ones (None: not given)."""
        return replace(self, options={**self.options, **options})

    def _lookup_raw(self, name: str) -> str | None:
        key = f"BYO_{name.upper()}"
        return self.env.get(key) or self.dotenv_entries.get(key)

    @property
    def outputs(self) -> dict[str, Any]:
        """The stack's outputs; of a multi-region stack (terraform/stacks/multi-region), those of
        one region's platform — the `region` setting's (--region, BYO_REGION), else the
        primary's — with `stack_regions` (primary first) and `region_outputs` beside them."""
        raw = self.outputs_reader.read()
        regions = raw.get("regions")
        if not (isinstance(regions, dict) and raw.get("primary_region") in regions):
            return raw
        chosen = self.options.get("region") or self._lookup_raw("region") or raw["primary_region"]
        if chosen not in regions:
            raise ConfigError(
                f"region {chosen!r}: the stack's regions are {', '.join(raw['stack_regions'])} "
                "(--region / BYO_REGION picks one)"
            )
        return {
            **regions[chosen],
            "stack_regions": list(raw["stack_regions"]),
            "region_outputs": regions,
        }

    def for_region(self, region: str) -> Settings:
        """A copy that reads `region`'s platform of a multi-region stack."""
        return self.with_options(region=region)

    @property
    def outputs_source(self) -> str:
        outputs_file = self.outputs_reader.source[0]
        return str(outputs_file) if outputs_file else "the stack's Terraform outputs"

    def get(self, name: str, default: Any = None) -> Any:
        if self.options.get(name) is not None:
            return self.options[name]
        raw = self._lookup_raw(name)
        if raw is not None:
            return raw
        if name in self.outputs:
            return self.outputs[name]
        return default

    def require(self, name: str, flag: str | None = None) -> Any:
        value = self.get(name)
        if value in (None, ""):
            raise ConfigError(
                f"no {name}: pass {flag or '--' + name.replace('_', '-')}, set "
                f"BYO_{name.upper()}, or apply the stack (its outputs provide it)"
            )
        return value
