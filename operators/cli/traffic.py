"""`byo traffic …`: variant weights, set by hand or shifted gradually behind a health gate."""

from __future__ import annotations

import click

from operators import traffic
from operators.aws import Clients
from operators.cli.options import (
    console,
    endpoint_option,
    err_console,
    json_option,
    print_json,
    variants_table,
)
from operators.config import Settings
from operators.errors import ConfigError


@click.group("traffic")
def traffic_group() -> None:
    """Variant weights: set by hand, or shift gradually."""


@traffic_group.command("set")
@click.argument("weights", nargs=-1, metavar="VARIANT=WEIGHT...")
@endpoint_option()
@json_option()
@click.pass_obj
def traffic_set_cmd(
    settings: Settings, weights: tuple[str, ...], endpoint: str | None, as_json: bool
) -> None:
    """Set relative variant weights, e.g. `byo traffic set variant-a=9 variant-b=1`.
    Variants not named keep their weight."""
    parsed = traffic.parse_weights(list(weights))
    name = settings.with_options(endpoint_name=endpoint).require("endpoint_name", "--endpoint")
    after = traffic.set_weights(Clients(), name, parsed)
    total = sum(v.weight for v in after) or 1.0
    rows = [
        {
            "variant": v.name,
            "weight": v.weight,
            "traffic_share": v.weight / total,
            "instances": v.instances,
        }
        for v in after
    ]
    if as_json:
        print_json({"endpoint": name, "variants": rows})
        return
    console.print(variants_table(f"endpoint {name}: weights now", rows))


@traffic_group.command("shift")
@click.option("--to", "target", required=True, help="Variant to move traffic to.")
@click.option(
    "--steps",
    default="10,50,100",
    show_default=True,
    help="Its traffic share after each step, in percent.",
)
@click.option(
    "--interval",
    default="60s",
    show_default=True,
    help="How long to watch each step (e.g. 90s, 5m).",
)
@click.option(
    "--max-5xx-rate",
    type=click.FloatRange(0, 1),
    default=0.01,
    show_default=True,
    help="Roll back if the variant's 5XX share of requests in a step is higher.",
)
@endpoint_option()
@json_option()
@click.pass_obj
def traffic_shift_cmd(
    settings: Settings,
    target: str,
    steps: str,
    interval: str,
    max_5xx_rate: float,
    endpoint: str | None,
    as_json: bool,
) -> None:
    """Shift traffic to a variant in steps, checking its 5XX rate (CloudWatch) after each;
    a failed gate or Ctrl-C restores the weights from before the shift."""
    try:
        percents = traffic.parse_steps(steps)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--steps") from None
    try:
        seconds = traffic.parse_interval(interval)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--interval") from None
    history = traffic.shift(
        Clients(),
        settings.with_options(endpoint_name=endpoint).require("endpoint_name", "--endpoint"),
        target,
        percents,
        seconds,
        max_5xx_rate,
        report=(lambda line: None) if as_json else err_console.print,
    )
    if as_json:
        print_json(history)
    else:
        console.print(f"{target} now takes {percents[-1]:g}% of traffic")
