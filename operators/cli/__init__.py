"""The `byo` command line: parse, validate, call a plain function, print.

Configuration lookup order (documented once, here and in the README): CLI option → environment
variable (BYO_*) → .env → Terraform outputs → default.

One module per command group under operators/cli/, loaded only when its command runs: COMMANDS
maps each name to where the command lives and the line `byo --help` shows for it, so listing
the commands imports none of them (as pip's commands_dict does).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import NamedTuple

import click

from operators.cli.options import guarded
from operators.config import Settings


class LazyCommand(NamedTuple):
    target: str  # "module:attribute" of the click command
    short_help: str  # what the group's help lists; a test keeps it equal to the command's
    hidden: bool = False


class LazyGroup(click.Group):
    """A group whose commands are imported when they are looked up (click's LazyGroup)."""

    def __init__(self, *args, lazy_commands: dict[str, LazyCommand], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy_commands or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = self.lazy_commands[cmd_name].target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing, where a command not loaded yet is listed from the map."""
        listed = []
        for name in self.list_commands(ctx):
            lazy = self.lazy_commands.get(name)
            if lazy is None or name in self.commands:
                command = self.get_command(ctx, name)
            else:
                command = click.Command(name, help=lazy.short_help, hidden=lazy.hidden)
            if command is not None and not command.hidden:
                listed.append((name, command))
        if listed:
            limit = formatter.width - 6 - max(len(name) for name, _ in listed)
            with formatter.section("Commands"):
                formatter.write_dl([(name, c.get_short_help_str(limit)) for name, c in listed])


COMMANDS = {
    "alarms": LazyCommand(
        "operators.cli.alarms:alarms_group",
        "CloudWatch alarms: states and history, and the notifications they sent.",
    ),
    "audit": LazyCommand(
        "operators.cli.audit:audit_cmd",
        "Who changed what serves, oldest first: each endpoint, traffic and registry change the "
        "audit trail recorded — when, the caller (role session, IAM user, root, or a service "
        "on the account's behalf) and whether it is a trusted role, from which address and "
        "region, on what, and its outcome.",
    ),
    "batch": LazyCommand(
        "operators.cli.batch:batch_group", "Batch scoring of S3 CSVs (the job AWS Batch runs)."
    ),
    "deploy": LazyCommand(
        "operators.cli.deploy:deploy_cmd",
        "Serve approved model VERSION as VARIANT (other variants and data capture are kept).",
    ),
    "events": LazyCommand(
        "operators.cli.events:events_group",
        "EventBridge rules: list them, or fire one now (the scheduled monitor, ...).",
    ),
    "ground-truth": LazyCommand(
        "operators.cli.ground_truth:ground_truth_group",
        "Ground-truth labels for captured requests.",
    ),
    "invoke": LazyCommand(
        "operators.cli.invoke:invoke_cmd",
        "Send the rows of a CSV to the endpoint as traffic, with a summary per variant (or, "
        "with --async, as one asynchronous inference, printing its answer).",
    ),
    "loops": LazyCommand(
        "operators.cli.loops:loops_group",
        "The retraining and deploy loops: last executions, triggers, by hand.",
    ),
    "model": LazyCommand(
        "operators.cli.model:model_group",
        "Model versions in the registry (a SageMaker model package group).",
    ),
    "monitor": LazyCommand(
        "operators.cli.monitor:monitor_group",
        "Model Monitor's checks without Model Monitor: baselines, data and model quality, "
        "attribution drift, bias, drift scenarios with a report.",
    ),
    "pipeline": LazyCommand(
        "operators.cli.pipeline:pipeline_group",
        "Train, evaluate, gate, register and deploy a model version: process → train → evaluate "
        "→ condition (AUC) → register → deploy, locally or as a SageMaker pipeline.",
    ),
    "shadow": LazyCommand(
        "operators.cli.shadow:shadow_group",
        "Shadow variants: compare a shadow with production on the captured requests, promote it.",
    ),
    "status": LazyCommand(
        "operators.cli.status:status_cmd",
        "The live state: endpoint, variants (weight, instances, autoscaling, model), recent "
        "batch jobs and registered model versions.",
    ),
    "teardown": LazyCommand(
        "operators.cli.teardown:teardown_cmd",
        "Remove what the operators created, then the Terraform stack, in dependency order.",
    ),
    "transform": LazyCommand(
        "operators.cli.transform:transform_cmd",
        "Score every object under S3_INPUT (s3://BUCKET/PREFIX) with model version N; each "
        "object's predictions go to <output>/<object>.out (a failing object fails the job).",
    ),
    "traffic": LazyCommand(
        "operators.cli.traffic:traffic_group", "Variant weights: set by hand, or shift gradually."
    ),
}


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="byo-platform", prog_name="byo")
@click.option(
    "--outputs",
    "outputs_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The stack's saved `terraform output -json` [env BYO_OUTPUTS]; default: ask Terraform.",
)
@click.option(
    "--region",
    metavar="REGION",
    help="Act in this region: of a multi-region stack, its platform (default: the primary's) "
    "[env BYO_REGION].",
)
@click.pass_context
def cli(ctx: click.Context, outputs_file: Path | None, region: str | None) -> None:
    """Operate the BYO model platform: models, endpoints, traffic, monitoring.

    Every setting is looked up in this order: CLI option, environment variable BYO_<NAME>, .env,
    the platform stack's Terraform outputs, default.
    """
    region = region or os.environ.get("BYO_REGION")
    if region:
        # Every AWS client the command makes is in that region, as with the AWS CLI's --region
        # (for this command only: a caller's environment is as it was afterwards).
        names = ("AWS_DEFAULT_REGION", "AWS_REGION")
        before = {name: os.environ.get(name) for name in names}
        os.environ.update(dict.fromkeys(names, region))
        ctx.call_on_close(lambda: _restore_environment(before))
    ctx.obj = Settings(outputs_file=outputs_file, options={"region": region})


def _restore_environment(before: dict[str, str | None]) -> None:
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def main() -> None:
    sys.exit(guarded(cli.main, standalone_mode=False))
