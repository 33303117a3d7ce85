"""python -m sample generate|sample-csv — the synthetic data for the demo and tests."""

from __future__ import annotations

from pathlib import Path

import click

from sample.generate import DEFAULT_ROWS, DEFAULT_SEED, generate, sample_rows, write_csv


@click.group()
def cli() -> None:
    """Synthetic credit-card-fraud data (Time, V1..V28, Amount, Class)."""


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


if __name__ == "__main__":
    cli()
