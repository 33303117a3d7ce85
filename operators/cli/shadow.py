"""`byo shadow …`: a shadow variant against production on the captured requests, and its
promotion to production behind the health gate of `byo traffic shift`."""

from __future__ import annotations

from datetime import timedelta

import click

from operators import rollout, shadow
from operators.aws import Clients
from operators.cli.options import (
    console,
    endpoint_option,
    err_console,
    force_option,
    json_option,
    print_json,
    since_option,
)
from operators.cli.options import table as make_table
from operators.cli.traffic import gate_options
from operators.config import Settings


@click.group("shadow")
def shadow_group() -> None:
    """Shadow variants: compare a shadow with production on the captured requests, promote it."""


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


@shadow_group.command("report")
@endpoint_option()
@since_option("How far back to read the captures and metrics (e.g. 30m, 1h, 2d).")
@json_option()
@click.pass_obj
def shadow_report_cmd(
    settings: Settings, endpoint: str | None, since: timedelta, as_json: bool
) -> None:
    """Compare the shadow with production on the requests both captured: agreement, score
    deltas, latency (ModelLatency) and the shadow's errors."""
    name = settings.with_options(endpoint_name=endpoint).require("endpoint_name", "--endpoint")
    result = shadow.report(Clients(), name, since)
    if as_json:
        print_json(result)
        return
    scores = result["scores"]
    production, shadow_metrics = result["metrics"]["production"], result["metrics"]["shadow"]
    rows = [
        ("pairs compared", f"{result['pairs']} ({scores['rows']} rows)"),
        (
            "unpaired captures",
            f"production {result['unpaired']['production']}, shadow {result['unpaired']['shadow']}",
        ),
    ]
    if scores["rows"]:
        rows += [
            (f"agreement ({scores['agreement_kind']})", f"{scores['agreement']:.2%}"),
            ("mean |score delta|", f"{scores['mean_abs_delta']:.4f}"),
            ("max |score delta|", f"{scores['max_abs_delta']:.4f}"),
        ]
    rows += [
        (
            "ModelLatency mean (production / shadow)",
            f"{_ms(production['latency_mean_ms'])} / {_ms(shadow_metrics['latency_mean_ms'])}",
        ),
        (
            "ModelLatency max (production / shadow)",
            f"{_ms(production['latency_max_ms'])} / {_ms(shadow_metrics['latency_max_ms'])}",
        ),
        (
            "shadow invocations, 4XX, 5XX",
            f"{shadow_metrics['invocations']:g}, {shadow_metrics['errors_4xx']:g}, "
            f"{shadow_metrics['errors_5xx']:g}",
        ),
    ]
    console.print(
        make_table(
            f"endpoint {name}: {result['shadow_variant']} (shadow) against "
            f"{result['production_variant']}, since {since}",
            ("", "value"),
            rows,
            show_header=False,
        )
    )


@shadow_group.command("promote")
@endpoint_option()
@gate_options(
    "The promoted variant's traffic share after each step, in percent.",
    "the promoted variant's",
)
@force_option()
@json_option()
@click.pass_obj
def shadow_promote_cmd(
    settings: Settings,
    endpoint: str | None,
    percents: list[float],
    seconds: float,
    max_5xx_rate: float,
    force: bool,
    as_json: bool,
) -> None:
    """Make the shadow the production variant: beside production at weight 0, shifted to in
    steps behind the 5XX gate of `byo traffic shift`, then alone (the old production retired).
    A failed gate or Ctrl-C puts the endpoint back on its config from before, shadow included."""
    settings = settings.with_options(endpoint_name=endpoint)
    name = settings.require("endpoint_name", "--endpoint")
    clients = Clients()
    lock = rollout.from_settings(
        settings, clients, name, "byo shadow promote", force=force, report=err_console.print
    )
    result = shadow.promote(
        clients,
        name,
        percents,
        seconds,
        max_5xx_rate,
        progress=(lambda line: None) if as_json else err_console.print,
        lock=lock,
    )
    if as_json:
        print_json(result)
    else:
        console.print(
            f"{result['promoted']} ({result['model']}) now serves all traffic of "
            f"{result['endpoint']}; {result['retired']} retired "
            f"(config {result['endpoint_config']})"
        )
