"""`byo monitor`: Model Monitor's checks without Model Monitor. The group lists its commands from
COMMANDS and imports operators.cli.monitor_commands (the monitoring service: xgboost,
scikit-learn) only when one of them runs, so `byo monitor --help` starts fast."""

from __future__ import annotations

import click

from operators.cli import LazyCommand, LazyGroup

COMMANDS = {
    "attribution-drift": LazyCommand(
        "operators.cli.monitor_commands:attribution_drift_cmd",
        "NDCG of the captured inputs' feature-attribution ranking against the baseline's.",
    ),
    "baseline": LazyCommand(
        "operators.cli.monitor_commands:baseline_cmd",
        (
            "statistics.json + constraints.json (data quality), and with --model the model-quality "
            "and feature-attribution baselines, into s3://BUCKET/monitoring/baseline/; or, with "
            "--model-version, the baselines registered with that version."
        ),
    ),
    "bias": LazyCommand(
        "operators.cli.monitor_commands:bias_cmd",
        "Clarify's pre- and post-training bias metrics for a facet (labelled captures).",
    ),
    "data-quality": LazyCommand(
        "operators.cli.monitor_commands:data_quality_cmd",
        (
            "Captured inputs (or a CSV, or a batch job's inputs) against the baseline: "
            "data_type, completeness, categorical_values, baseline_drift, missing_column and "
            "extra_column checks; drift metrics to CloudWatch."
        ),
    ),
    "import-baseline": LazyCommand(
        "operators.cli.monitor_commands:import_baseline_cmd",
        (
            "Use baseline files as SageMaker Model Monitor and Clarify wrote them, unchanged: "
            "statistics.json + constraints.json, model-quality constraints of any problem "
            "type, Clarify's analysis.json. Local paths or s3:// URIs."
        ),
    ),
    "model-quality": LazyCommand(
        "operators.cli.monitor_commands:model_quality_cmd",
        (
            "Captured predictions joined with ground truth (inferenceId, else eventId): the binary "
            "classification metrics and violations of the baseline's constraints."
        ),
    ),
    "prediction-drift": LazyCommand(
        "operators.cli.monitor_commands:prediction_drift_cmd",
        "The model's captured outputs (or a batch job's) against their distribution on the "
        "baseline data.",
    ),
    "run": LazyCommand(
        "operators.cli.monitor_commands:run_cmd",
        "Every check the baseline supports (what the hourly Batch job runs).",
    ),
    "scenarios": LazyCommand(
        "operators.cli.monitor_commands:scenarios_cmd",
        (
            "Send altered traffic through the endpoint (clean, mean shift, scale change, missing "
            "values, out-of-range values, label flips, …), run every check on each, and write an "
            "HTML report with plots."
        ),
    ),
}


@click.group("monitor", cls=LazyGroup, lazy_commands=COMMANDS)
def monitor_group() -> None:
    """Model Monitor's checks without Model Monitor: baselines, data and model quality,
    attribution drift, bias, drift scenarios with a report."""
