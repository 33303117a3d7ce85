"""`byo traffic …`: variant weights, set by hand or shifted gradually behind a health gate."""

from __future__ import annotations

import click

from operators import rollout, traffic
from operators.aws import Clients
from operators.cli.options import (
    console,
    endpoint_option,
    err_console,
    force_option,
    json_option,
    print_json,
    variants_table,
)
from operators.config import Settings
from operators.errors import ConfigError


def gate_options(steps_help: str, whose: str):
    """--steps, --interval and --max-5xx-rate of a traffic shift behind the 5XX gate (`byo
    traffic shift`, `byo shadow promote`), parsed: the command gets `percents` (the traffic
    share after each step), `seconds` (how long each step is watched) and `max_5xx_rate`.
    `steps_help` is --steps' help, `whose` names the gated variant in --max-5xx-rate's."""

    def parsed(parse, hint: str):
        def callback(ctx: click.Context, param: click.Parameter, value: str):
            try:
                return parse(value)
            except ConfigError as exc:
                raise click.BadParameter(str(exc), param_hint=hint) from None

        return callback

    options = (
        click.option(
            "--steps",
            "percents",
            default="10,50,100",
            show_default=True,
            callback=parsed(traffic.parse_steps, "--steps"),
            help=steps_help,
        ),
        click.option(
            "--interval",
            "seconds",
            default="60s",
            show_default=True,
            callback=parsed(traffic.parse_interval, "--interval"),
            help="How long to watch each step (e.g. 90s, 5m).",
        ),
        click.option(
            "--max-5xx-rate",
            type=click.FloatRange(0, 1),
            default=0.01,
            show_default=True,
            help=f"Roll back if {whose} 5XX share of requests in a step is higher.",
        ),
    )

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


@click.group("traffic")
def traffic_group() -> None:
    """Variant weights: set by hand, or shift gradually."""


@traffic_group.command("set")
@click.argument("weights", nargs=-1, metavar="VARIANT=WEIGHT...")
@endpoint_option()
@force_option()
@json_option()
@click.pass_obj
def traffic_set_cmd(
    settings: Settings,
    weights: tuple[str, ...],
    endpoint: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Set relative variant weights, e.g. `byo traffic set variant-a=9 variant-b=1`.
    Variants not named keep their weight."""
    parsed = traffic.parse_weights(list(weights))
    settings = settings.with_options(endpoint_name=endpoint)
    name = settings.require("endpoint_name", "--endpoint")
    clients = Clients()
    action = "byo traffic set " + " ".join(weights)
    lock = rollout.from_settings(
        settings, clients, name, action, force=force, report=err_console.print
    )
    after = traffic.set_weights(clients, name, parsed, lock=lock)
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
@gate_options("Its traffic share after each step, in percent.", "the variant's")
@endpoint_option()
@force_option()
@json_option()
@click.pass_obj
def traffic_shift_cmd(
    settings: Settings,
    target: str,
    percents: list[float],
    seconds: float,
    max_5xx_rate: float,
    endpoint: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Shift traffic to a variant in steps, checking its 5XX rate (CloudWatch) after each;
    a failed gate or Ctrl-C restores the weights from before the shift."""
    settings = settings.with_options(endpoint_name=endpoint)
    name = settings.require("endpoint_name", "--endpoint")
    clients = Clients()
    lock = rollout.from_settings(
        settings,
        clients,
        name,
        f"byo traffic shift --to {target}",
        force=force,
        report=err_console.print,
    )
    history = traffic.shift(
        clients,
        name,
        target,
        percents,
        seconds,
        max_5xx_rate,
        report=(lambda line: None) if as_json else err_console.print,
        lock=lock,
    )
    if as_json:
        print_json(history)
    else:
        console.print(f"{target} now takes {percents[-1]:g}% of traffic")
