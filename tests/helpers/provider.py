"""A Terraform provider kept running for a worker's `terraform` commands to attach to.

Terraform 1.11 starts a provider's plugin process afresh for every step it needs it in: twice per
`run` block of `terraform test` (validate, then plan), each start of the AWS provider's 700 MB
binary costing ~0.45 s of CPU on a 2-core machine, plus ~3 s for its schema in each `terraform`
process. That was ~90% of the modules' own tests' time (the endpoint module's 58 runs: 57 s
started each time, 9 s attached). Started once with `-debug`, the provider prints the
TF_REATTACH_PROVIDERS value that makes Terraform use that process instead of starting one; the
binary is the one `terraform init` installed, so nothing else changes.

Only where the provider is never configured, as with `terraform test`'s `mock_provider`: every
configuration of it would share the one process, and a configured one is not the same as one
started afresh (provider 5.100 fails its second configure in one process when AWS_CA_BUNDLE is
set, "unable to add custom RootCAs HTTPClient"). The e2e stacks start theirs as Terraform does.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from tests.helpers.processes import stop_process

PREFIX = "TF_REATTACH_PROVIDERS="


def installed_binary(data_dir: Path, address: str = "registry.terraform.io/hashicorp/aws") -> Path:
    """The provider binary `terraform init` installed under TF_DATA_DIR (one version)."""
    found = sorted((data_dir / "providers" / address).glob("*/*/terraform-provider-*"))
    if len(found) != 1:
        raise RuntimeError(f"expected one {address} binary under {data_dir}, found {found}")
    return found[0].resolve()


class AttachedProviders:
    """One running provider per binary, started on first use and stopped by `close()`."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: dict[Path, tuple[subprocess.Popen, str]] = {}

    def env(self, binary: Path, timeout_s: float = 60) -> dict[str, str]:
        """The variable that attaches `terraform` to `binary`'s running process."""
        if binary not in self.running:
            self.running[binary] = self._start(binary, timeout_s)
        proc, reattach = self.running[binary]
        if proc.poll() is not None:
            raise RuntimeError(f"{binary.name} exited ({proc.returncode}); see {self.log_dir}")
        return {"TF_REATTACH_PROVIDERS": reattach}

    def _start(self, binary: Path, timeout_s: float) -> tuple[subprocess.Popen, str]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{binary.name}-{len(self.running)}.log"
        environ = {k: v for k, v in os.environ.items() if k != "TF_REATTACH_PROVIDERS"}
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(binary), "-debug"],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.log_dir,
                env=environ,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in log.read_text(errors="replace").splitlines():
                line = line.strip()
                if line.startswith(PREFIX):
                    value = line.removeprefix(PREFIX).strip("'")
                    try:
                        json.loads(value)
                    except ValueError:  # half of the line, so far
                        continue
                    return proc, value
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        stop_process(proc)
        raise RuntimeError(f"{binary} -debug printed no {PREFIX} line:\n{log.read_text()[-2000:]}")

    def close(self) -> None:
        for proc, _ in self.running.values():
            stop_process(proc)
        self.running.clear()
