"""What every command shares, declared once: options, the two consoles, JSON and tables, and
the mapping of expected failures to one line on stderr and an exit code."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from rich.console import Console
from rich.table import Table

from operators.errors import ByoError

console = Console()
err_console = Console(stderr=True)  # progress and errors, so stdout stays the result


def endpoint_option(help: str = "Endpoint [env BYO_ENDPOINT_NAME; stack output endpoint_name]."):
    return click.option("--endpoint", help=help)


def json_option(help: str = "Print machine-readable JSON."):
    return click.option("--json", "as_json", is_flag=True, help=help)


def regions_option(help: str):
    """--regions of a multi-region stack: `all` (primary first) or a comma list of its regions."""
    return click.option("--regions", metavar="all|REGION[,REGION]", help=help)


def since_option(help: str, default: str = "1h"):
    """--since as a duration (30m, 1h, 2d): the command gets a timedelta."""

    def parse(ctx: click.Context, param: click.Parameter, value: str):
        from operators.monitoring.captures import parse_window

        try:
            return parse_window(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None

    return click.option("--since", default=default, show_default=True, callback=parse, help=help)


def force_option():
    """--force of the commands that take the endpoint's rollout lock."""
    return click.option(
        "--force",
        is_flag=True,
        help="Break another rollout's lock of the endpoint (the lock records it as ForcedOver).",
    )


def canary_options(func):
    """--canary-percent, --canary-wait and --rollback-alarm: a blue/green deployment's canary
    and the alarms that roll it back (byo deploy --blue-green, byo loops deploy)."""
    for option in reversed(
        (
            click.option(
                "--canary-percent", type=click.IntRange(1, 100), default=10, show_default=True
            ),
            click.option(
                "--canary-wait",
                "canary_wait_s",
                type=click.IntRange(min=0),
                default=300,
                show_default=True,
                help="Seconds the canary serves before the rest moves.",
            ),
            click.option(
                "--rollback-alarm",
                "rollback_alarms",
                multiple=True,
                help="Alarm that rolls the update back (repeatable; default: the stack's 5XX and "
                "p99-latency alarms).",
            ),
        )
    ):
        func = option(func)
    return func


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    right: Iterable[str] = (),
    styles: Sequence[str | None] | None = None,
    show_header: bool = True,
) -> Table:
    """A table titled on the left; `right` names the right-aligned columns, `styles` gives each
    row's style (None for none)."""
    aligned = set(right)
    result = Table(title=title, title_justify="left", show_header=show_header)
    for column in columns:
        result.add_column(column, justify="right" if column in aligned else "left")
    for index, row in enumerate(rows):
        result.add_row(*row, style=styles[index] if styles else None)
    return result


def variants_table(title: str, variants: list[dict[str, Any]]) -> Table:
    rows = []
    for v in variants:
        scaling = v.get("autoscaling")
        rows.append(
            (
                v["variant"],
                f"{v['weight']:g}",
                f"{v['traffic_share']:.0%}",
                str(v.get("instances") if v.get("instances") is not None else "-"),
                f"{scaling[0]}-{scaling[1]}" if scaling else "-",
                str(v.get("model_version") or "-"),
                v.get("model") or "-",
            )
        )
    return table(
        title,
        ["variant", "weight", "traffic", "instances", "autoscaling", "version", "model"],
        rows,
        right=["weight", "traffic", "instances", "autoscaling", "version"],
    )


def versions_table(title: str, packages: list[dict[str, Any]]) -> Table:
    rows = []
    for p in packages:
        containers = p["containers"]
        metric = (
            f"{p['metric']} {p['metric_value']:.4f}" if p.get("metric_value") is not None else "-"
        )
        frameworks = " → ".join(c["framework"] or "?" for c in containers)
        rows.append(
            (
                str(p["version"]),
                p["status"],
                metric,
                str(len(containers)),
                frameworks,
                p["model_data_url"],
            )
        )
    return table(
        title,
        ["version", "status", "metric", "containers", "frameworks", "artifact"],
        rows,
        right=["version", "containers"],
    )


def guarded(run: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """Run `run(*args, **kwargs)` and return the exit code: an expected failure is one line on
    stderr, never a traceback (1 runtime failure, 2 usage or configuration, 130 interrupted).
    An int `run` returns is its exit code (click's main returns the code of a `ctx.exit(n)`).
    Errors are never wrapped (soft_wrap): one line, whatever the terminal's width."""
    try:
        result = run(*args, **kwargs)
    except (click.exceptions.Abort, KeyboardInterrupt):
        err_console.print("aborted", style="red")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ByoError as exc:
        err_console.print(f"error: {exc}", style="red", markup=False, soft_wrap=True)
        return exc.exit_code
    except EndpointConnectionError as exc:
        err_console.print(
            f"error: cannot reach AWS at {exc.kwargs.get('endpoint_url')}: is the emulator "
            "running (make emulator-up), or AWS_ENDPOINT_URL wrong?",
            style="red",
            markup=False,
            soft_wrap=True,
        )
        return 1
    except NoCredentialsError:
        err_console.print(
            "error: no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID "
            "(the emulator takes any)",
            style="red",
            markup=False,
            soft_wrap=True,
        )
        return 2
    except ClientError as exc:  # an AWS error no command expected: its code and message
        error = exc.response.get("Error", {})
        err_console.print(
            f"error: AWS {exc.operation_name} failed: {error.get('Code')}: {error.get('Message')}",
            style="red",
            markup=False,
            soft_wrap=True,
        )
        return 1
    return result if isinstance(result, int) else 0
