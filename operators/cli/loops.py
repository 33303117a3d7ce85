"""`byo loops …`: the retraining and deploy loops — their state, starting one by hand, pausing
and resuming a trigger, and the two jobs their state machines run (retrain, deploy)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from operators import deploy, loops
from operators.aws import Clients
from operators.cli.options import (
    canary_options,
    console,
    err_console,
    json_option,
    print_json,
    table,
)
from operators.config import Settings
from operators.pipeline import runner


def _loops(settings: Settings) -> dict:
    return loops.require_loops(settings.get("loops"))


@click.group("loops", invoke_without_command=True)
@click.option("--limit", type=click.IntRange(min=1), default=10, show_default=True)
@json_option("Print the loops' state as JSON.")
@click.pass_context
def loops_group(ctx: click.Context, limit: int, as_json: bool) -> None:
    """The retraining and deploy loops: last executions, triggers, by hand."""
    if ctx.invoked_subcommand is not None:
        return
    settings: Settings = ctx.obj
    config = _loops(settings)
    clients = Clients()
    state = {
        "executions": loops.executions(clients, config, limit),
        "locks": loops.locks(clients, config),
        "triggers": loops.triggers(clients, config),
    }
    if as_json:
        print_json(state)
        return
    rows = [
        (
            _when(r["started"]),
            r["loop"],
            r["reason"] or "-",
            r["outcome"] or r["status"].lower(),
            r["version"] or "-",
            _took(r),
        )
        for r in state["executions"]
    ]
    console.print(
        table(
            "Loop executions (newest first)",
            ["started", "loop", "reason", "outcome", "version", "took"],
            rows,
            right=["version", "took"],
        )
    )
    for r in state["executions"]:
        if r["message"]:
            console.print(f"  {_when(r['started'])} {r['loop']}: {r['message']}")
    console.print(
        table(
            "Triggers",
            ["trigger", "rule", "state", "schedule"],
            [
                (t["trigger"], t["rule"], t["state"], t["schedule"] or "-")
                for t in state["triggers"]
            ],
        )
    )
    for loop, held in state["locks"].items():
        if held:
            console.print(f"{loop}: held by {held['holder']} since {held['since']}")


def _when(iso: str | None) -> str:
    """2026-12-02T19:07:11+00:00 → 12-02 19:07:11 (UTC)."""
    return "-" if not iso else iso[5:19].replace("T", " ")


def _took(row: dict) -> str:
    if not row["started"] or not row["stopped"]:
        return "running" if row["status"] == "RUNNING" else "-"
    seconds = datetime.fromisoformat(row["stopped"]) - datetime.fromisoformat(row["started"])
    return f"{seconds.total_seconds():.0f} s"


@loops_group.command("trigger")
@click.argument("loop", type=click.Choice(loops.LOOPS))
@click.option("--data", help="retraining: the labelled CSV(s), s3://… (default: the loop's).")
@click.option("--version", type=click.IntRange(min=1), help="deploy: the approved version.")
@json_option()
@click.pass_obj
def trigger_cmd(
    settings: Settings, loop: str, data: str | None, version: int | None, as_json: bool
) -> None:
    """Start LOOP now (reason: manual), as its triggers would."""
    started = loops.trigger(Clients(), _loops(settings), loop, data=data, version=version)
    if as_json:
        print_json(started)
    else:
        console.print(f"{loop}: started {started['execution']} ({started['arn']})")


def _set(settings: Settings, trigger: str, on: bool, as_json: bool) -> None:
    result = loops.set_trigger(Clients(), _loops(settings), trigger, on)
    if as_json:
        print_json(result)
    else:
        console.print(f"{result['trigger']}: rule {result['rule']} {result['state']}")


@loops_group.command("pause")
@click.argument("trigger")
@json_option()
@click.pass_obj
def pause_cmd(settings: Settings, trigger: str, as_json: bool) -> None:
    """Pause TRIGGER (schedule, new-data, alarm, approval): disable its rule."""
    _set(settings, trigger, False, as_json)


@loops_group.command("resume")
@click.argument("trigger")
@json_option()
@click.pass_obj
def resume_cmd(settings: Settings, trigger: str, as_json: bool) -> None:
    """Resume TRIGGER: enable its rule again."""
    _set(settings, trigger, True, as_json)


@loops_group.command("retrain")
@click.option("--reason", type=click.Choice(loops.REASONS), required=True)
@click.option("--data", required=True, help="The labelled CSV(s): s3://… object or prefix.")
@click.option("--record", required=True, help="The job table record to write the outcome to.")
@click.option("--pipeline-name", help="The pipeline (default <name>-pipeline).")
@click.option("--auc-threshold", type=click.FloatRange(0, 1), default=0.9, show_default=True)
@click.option(
    "--auto-approve-margin",
    type=click.FloatRange(0, 1),
    help="Approve the new version if its AUC beats the serving version's by this much.",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/pipeline"),
    show_default=True,
)
@json_option()
@click.pass_obj
def retrain_cmd(
    settings: Settings,
    reason: str,
    data: str,
    record: str,
    pipeline_name: str | None,
    auc_threshold: float,
    auto_approve_margin: float | None,
    work_dir: Path,
    as_json: bool,
) -> None:
    """The retraining machine's job: the pipeline on DATA, a version pending approval, the
    outcome in RECORD (exit 0 when the AUC condition fails: that is an outcome)."""
    clients = Clients()
    runs = runner.Runner.from_settings(
        clients,
        settings,
        name=pipeline_name,
        work_dir=work_dir,
        progress=lambda line: err_console.print(line),
    )
    outcome = loops.retrain(
        clients,
        runs=runs,
        table=settings.require("job_table"),
        record=record,
        reason=reason,
        data=data,
        endpoint=settings.require("endpoint_name"),
        group=settings.require("model_package_group"),
        name=settings.get("name") or "byo",
        auc_threshold=auc_threshold,
        auto_approve_margin=auto_approve_margin,
    )
    if as_json:
        print_json(outcome)
    else:
        console.print(outcome["Message"])


@loops_group.command("deploy")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--record", required=True, help="The job table record to write the outcome to.")
@canary_options
@json_option()
@click.pass_obj
def deploy_cmd(
    settings: Settings,
    version: int,
    record: str,
    canary_percent: int,
    canary_wait_s: int,
    rollback_alarms: tuple[str, ...],
    as_json: bool,
) -> None:
    """The deploy machine's job: roll approved VERSION out blue/green in place of the model
    serving the most traffic, under the endpoint's rollout lock; the outcome in RECORD."""
    alarms = list(rollback_alarms) or deploy.default_rollback_alarms(settings.get("alarm_names"))
    outcome = loops.deploy_approved(
        Clients(),
        table=settings.require("job_table"),
        record=record,
        version=version,
        endpoint=settings.require("endpoint_name"),
        group=settings.require("model_package_group"),
        role_arn=settings.require("sagemaker_execution_role_arn"),
        name=settings.get("name") or "byo",
        deployment_config=deploy.blue_green(canary_percent, canary_wait_s, 0, alarms),
    )
    if as_json:
        print_json(outcome)
    else:
        console.print(outcome["Message"])
