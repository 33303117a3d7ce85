"""python -m sample generate|sample-csv|train — data and model for the demo and tests."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sample.generate import DEFAULT_ROWS, DEFAULT_SEED, generate, sample_rows, write_csv
from sample.train import train


@click.group()
def cli() -> None:
    """Synthetic credit-card-fraud data and the model trained on it."""


@cli.command("generate")
@click.option("--rows", type=click.IntRange(min=1), default=DEFAULT_ROWS, show_default=True)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def generate_cmd(rows: int, seed: int, out: Path) -> None:
    """Write the dataset (CSV with header: Time, V1..V28, Amount, Class)."""
    table = generate(rows, seed)
    write_csv(table, out)
    frauds = sum(table.column("Class").to_pylist())
    click.echo(
        f"wrote {out}: {table.num_rows} rows, {frauds} fraud ({frauds / table.num_rows:.3%})"
    )


@cli.command("sample-csv")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def sample_csv_cmd(seed: int, out: Path) -> None:
    """Write a few rows (8 normal, 2 fraud) without header or label, as the endpoint takes them."""
    write_csv(sample_rows(generate(DEFAULT_ROWS, seed)), out, header=False)
    click.echo(f"wrote {out}")


@cli.command("train")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
def train_cmd(data: Path, out_dir: Path, seed: int) -> None:
    """Train XGBoost; write model.tar.gz and evaluation.json."""
    try:
        result = train(data, out_dir, seed)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    metrics = result.evaluation["binary_classification_metrics"]
    summary = {k: round(metrics[k]["value"], 4) for k in ("auc", "precision", "recall", "f1")}
    click.echo(f"wrote {result.model_path} and {result.evaluation_path}")
    click.echo(f"test metrics: {json.dumps(summary)}  ({result.evaluation['training_seconds']} s)")


if __name__ == "__main__":
    cli()
