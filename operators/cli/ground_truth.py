"""`byo ground-truth …`: labels for the captured requests."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import click

from operators import ground_truth
from operators.aws import Clients
from operators.cli.options import console, endpoint_option, json_option, print_json
from operators.config import Settings
from operators.layout import Layout


@click.group("ground-truth")
def ground_truth_group() -> None:
    """Ground-truth labels for captured requests."""


@ground_truth_group.command("generate")
@click.option("--since", type=click.DateTime(), help="Only requests at or after (UTC).")
@click.option("--until", type=click.DateTime(), help="Only requests before (UTC).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--accuracy",
    type=click.FloatRange(0, 1),
    default=0.9,
    show_default=True,
    help="Share of labels that agree with the rule (the rest are flipped).",
)
@click.option(
    "--labels",
    "labels_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled dataset (CSV with a Class column): use known labels.",
)
@endpoint_option()
@json_option()
@click.pass_obj
def ground_truth_cmd(
    settings: Settings,
    since,
    until,
    seed: int,
    accuracy: float,
    labels_file: Path | None,
    endpoint: str | None,
    as_json: bool,
) -> None:
    """Label the captured requests (SageMaker's ground-truth JSONL under ground-truth/)."""
    settings = settings.with_options(endpoint_name=endpoint)
    summary = ground_truth.generate(
        Clients(),
        capture_uri=settings.require("data_capture_s3_uri"),
        endpoint=settings.require("endpoint_name", "--endpoint"),
        layout=Layout.from_settings(settings),
        seed=seed,
        accuracy=accuracy,
        labels_file=labels_file,
        since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) if until else None,
    )
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{summary['labels']} labels ({summary['positives']} positive, "
        f"{summary['flipped']} flipped, {summary['unmatched']} unmatched) from "
        f"{summary['rule']}, written to:"
    )
    for uri in summary["objects"]:
        console.print(f"  {uri}")
