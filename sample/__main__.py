"""python -m sample generate|sample-csv — the synthetic data for the demo and tests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sample.generate import DEFAULT_ROWS, DEFAULT_SEED, generate, sample_rows, write_csv


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not >= 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sample",
        description="Synthetic credit-card-fraud data (Time, V1..V28, Amount, Class).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser(
        "generate", help="Write the dataset (CSV with header: Time, V1..V28, Amount, Class)."
    )
    data.add_argument("--rows", type=positive, default=DEFAULT_ROWS)
    data.add_argument("--seed", type=int, default=DEFAULT_SEED)
    data.add_argument("--out", type=Path, required=True)
    rows = commands.add_parser(
        "sample-csv",
        help="Write a few rows (8 normal, 2 fraud) without header or label, as the endpoint "
        "takes them.",
    )
    rows.add_argument("--seed", type=int, default=DEFAULT_SEED)
    rows.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "generate":
        table = generate(args.rows, args.seed)
        write_csv(table, args.out)
        frauds = sum(table.column("Class").to_pylist())
        print(
            f"wrote {args.out}: {table.num_rows} rows, {frauds} fraud "
            f"({frauds / table.num_rows:.3%})"
        )
    else:
        write_csv(sample_rows(generate(DEFAULT_ROWS, args.seed)), args.out, header=False)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
