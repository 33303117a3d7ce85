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
from pathlib import Path
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
    dir (unless the caller already chose them)."""
    from operators.terraform import write_cli_config

    resolved = stack_dir.resolve()
    root = resolved.parents[2] if len(resolved.parents) > 2 else Path.cwd()
    env = dict(os.environ)
    env.setdefault("TF_CLI_CONFIG_FILE", str(write_cli_config(root / "build" / "terraform.rc")))
    env.setdefault("TF_DATA_DIR", str(root / "build" / "tf" / target))
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


class Settings:
    """Settings resolved in the documented order; `get(name)` for one, `require` to insist."""

    def __init__(
        self,
        options: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        dotenv: Path | None = Path(".env"),
        outputs_file: Path | None = None,
    ) -> None:
        self.options = {k: v for k, v in (options or {}).items() if v is not None}
        self.env = os.environ if env is None else env
        self.dotenv = (
            {k: v for k, v in dotenv_values(dotenv).items() if v is not None}
            if dotenv is not None and dotenv.is_file()
            else {}
        )
        self._outputs_file = outputs_file or self._lookup_raw("outputs")
        self._outputs: dict[str, Any] | None = None

    def _lookup_raw(self, name: str) -> str | None:
        key = f"BYO_{name.upper()}"
        return self.env.get(key) or self.dotenv.get(key)

    @property
    def outputs(self) -> dict[str, Any]:
        if self._outputs is None:
            if self._outputs_file:
                path = Path(self._outputs_file)
                try:
                    self._outputs = _plain(json.loads(path.read_text()))
                except (OSError, json.JSONDecodeError) as exc:
                    raise ConfigError(f"cannot read stack outputs from {path}: {exc}") from None
            else:
                stack_dir = Path(self._lookup_raw("stack_dir") or DEFAULT_STACK_DIR)
                self._outputs = terraform_outputs(stack_dir, self._lookup_raw("target") or "local")
        return self._outputs

    @property
    def outputs_source(self) -> str:
        return str(self._outputs_file) if self._outputs_file else "the stack's Terraform outputs"

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
