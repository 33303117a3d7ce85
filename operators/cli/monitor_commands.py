"""The `byo monitor …` commands: baselines, the checks over a window of captured traffic, drift
scenarios. They need the monitoring service (and with it xgboost and scikit-learn), so the
group (operators.cli.monitor) lists them from its map and loads this module only to run one."""

from __future__ import annotations

import functools
from datetime import UTC
from pathlib import Path
from typing import Any

import click

from operators.aws import Clients
from operators.cli.options import (
    console,
    endpoint_option,
    err_console,
    json_option,
    print_json,
    table,
)
from operators.config import Settings
from operators.errors import ByoError
from operators.layout import Layout
from operators.monitoring import baselines, bias, data_quality, scenarios
from operators.monitoring.captures import Window, parse_window
from operators.monitoring.monitor import CheckResult, Monitor, install_registered_baseline


def monitor_for(settings: Settings, endpoint: str | None, out_dir: Path | None) -> Monitor:
    settings = settings.with_options(endpoint_name=endpoint)
    return Monitor(
        Clients(),
        layout=Layout.from_settings(settings),
        endpoint=settings.require("endpoint_name", "--endpoint"),
        capture_uri=settings.require("data_capture_s3_uri"),
        out_dir=out_dir,
        job_table=lambda: settings.get("job_table"),  # read only for --batch-job
    )


def common_options(window: bool = True):
    """--endpoint, --out, --json (and the window) for every check command."""

    def decorate(command):
        options = [
            endpoint_option(),
            click.option(
                "--out",
                "out_dir",
                type=click.Path(file_okay=False, path_type=Path),
                help="Also write the result files under this directory.",
            ),
            json_option(),
        ]
        if window:
            options += [
                click.option(
                    "--window",
                    default="1h",
                    show_default=True,
                    help="Check the captures of this long before now (30m, 1h, 2d).",
                ),
                click.option("--since", type=click.DateTime(), help="Window start (UTC)."),
                click.option("--until", type=click.DateTime(), help="Window end (UTC)."),
                click.option(
                    "--fail-on-violations",
                    is_flag=True,
                    help="Exit 3 when a check finds violations.",
                ),
            ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def window_of(window: str, since, until) -> Window:
    if since or until:
        return Window(
            since.replace(tzinfo=UTC) if since else None,
            until.replace(tzinfo=UTC) if until else None,
        )
    try:
        return Window.last(parse_window(window))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--window") from None


def print_results(results: list[CheckResult], as_json: bool, fail_on_violations: bool) -> None:
    if as_json:
        print_json([r.as_dict() for r in results])
    else:
        console.print(
            table(
                "monitoring",
                ["check", "status", "violations", "summary"],
                [
                    (
                        r.check,
                        r.status,
                        str(len(r.violations)),
                        ", ".join(
                            f"{k}={v}"
                            for k, v in r.summary.items()
                            if not isinstance(v, (dict, list))
                        ),
                    )
                    for r in results
                ],
                styles=[
                    {"violations": "bold red", "not evaluated": "yellow"}.get(r.status)
                    for r in results
                ],
            )
        )
        for result in results:
            for violation in result.violations:
                where = violation.get("feature_name") or violation.get("metric_name") or ""
                console.print(
                    f"  [red]{result.check}[/] {violation['constraint_check_type']} {where}: "
                    f"{violation['description']}",
                    highlight=False,
                )
            for name, uri in result.files.items():
                console.print(f"  {result.check} {name}: {uri}", highlight=False)
    if fail_on_violations and any(r.violations for r in results):
        raise click.exceptions.Exit(3)


def check_command(name: str):
    """A check over a window of captured traffic."""

    def decorate(function):
        @click.command(name)
        @common_options()
        @click.pass_obj
        @functools.wraps(function)
        def command(
            settings: Settings,
            endpoint: str | None,
            out_dir: Path | None,
            as_json: bool,
            window: str,
            since,
            until,
            fail_on_violations: bool,
            **extra: Any,
        ) -> None:
            monitor = monitor_for(settings, endpoint, out_dir)
            results = function(monitor, window_of(window, since, until), **extra)
            print_results(results, as_json, fail_on_violations)

        return command

    return decorate


@click.command("baseline")
@click.option(
    "--data",
    "data_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Training data: CSV with a header (the label column is left out of the features).",
)
@click.option(
    "--model-version",
    type=click.IntRange(min=1),
    help="Instead of --data: use the baselines registered with this model version (by "
    "byo pipeline run) and its model.",
)
@click.option("--label", default="Class", show_default=True, help="The label column.")
@click.option(
    "--model",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="model.tar.gz: adds the model-quality and feature-attribution baselines.",
)
@click.option(
    "--holdout",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Held-out labelled CSV the model-quality baseline scores (default: --data; training "
    "data flatters the model).",
)
@click.option(
    "--drift-threshold",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.1,
    show_default=True,
    help="comparison_threshold: largest CDF distance that is not drift.",
)
@click.option(
    "--ndcg-threshold",
    type=click.FloatRange(0, 1),
    default=0.9,
    show_default=True,
    help="Attribution drift fires below this NDCG.",
)
@common_options(window=False)
@click.pass_obj
def baseline_cmd(
    settings: Settings,
    data_file: Path | None,
    model_version: int | None,
    label: str,
    model: Path | None,
    holdout: Path | None,
    drift_threshold: float,
    ndcg_threshold: float,
    endpoint: str | None,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """statistics.json + constraints.json (data quality), and with --model the model-quality
    and feature-attribution baselines, into s3://BUCKET/monitoring/baseline/; or, with
    --model-version, the baselines registered with that version."""
    if (data_file is None) == (model_version is None):
        raise click.UsageError("give either --data or --model-version")
    monitor = monitor_for(settings, endpoint, out_dir)
    if model_version is not None:
        if model or holdout:
            raise click.UsageError("--model and --holdout go with --data, not --model-version")
        created = install_registered_baseline(
            monitor, settings.require("model_package_group"), model_version
        )
    else:
        created = monitor.create_baseline(
            data_file,
            label=label,
            model=model,
            holdout=holdout,
            comparison_threshold=drift_threshold,
            ndcg_threshold=ndcg_threshold,
        )
    if as_json:
        print_json(created)
        return
    manifest = created["manifest"]
    console.print(
        f"baseline of {manifest['rows']:,} rows x {len(manifest['features'])} features"
        + (f", model {manifest['model_sha256'][:12]}…" if "model_sha256" in manifest else "")
    )
    for name, uri in created["files"].items():
        console.print(f"  {name}: {uri}", highlight=False)


IMPORTS = (
    ("--statistics", baselines.DATA_STATISTICS, "Model Monitor's data-quality statistics.json."),
    ("--constraints", baselines.DATA_CONSTRAINTS, "Its constraints.json (as suggested or edited)."),
    (
        "--model-quality-statistics",
        baselines.MODEL_STATISTICS,
        "The model-quality baseline job's statistics.json.",
    ),
    (
        "--model-quality-constraints",
        baselines.MODEL_CONSTRAINTS,
        "Its constraints.json (binary, multiclass or regression).",
    ),
    ("--analysis", baselines.ATTRIBUTION, "Clarify's explainability analysis.json."),
    (
        "--attribution-constraints",
        baselines.ATTRIBUTION_CONSTRAINTS,
        "The explainability monitor's constraints (default: NDCG threshold 0.9).",
    ),
    ("--bias-analysis", baselines.BIAS, "Clarify's bias analysis.json (the bias baseline)."),
)


def import_options(command):
    for flag, _, help_text in reversed(IMPORTS):
        command = click.option(flag, metavar="PATH|S3_URI", help=help_text)(command)
    return command


@click.command("import-baseline")
@import_options
@click.option(
    "--model",
    metavar="PATH|S3_URI",
    help="model.tar.gz the attributions are recomputed with (attribution-drift needs it).",
)
@click.option("--label", default="", help="The label column's name (for bias reports).")
@common_options(window=False)
@click.pass_obj
def import_baseline_cmd(
    settings: Settings,
    model: str | None,
    label: str,
    endpoint: str | None,
    out_dir: Path | None,
    as_json: bool,
    **given: str | None,
) -> None:
    """Use baseline files as SageMaker Model Monitor and Clarify wrote them, unchanged:
    statistics.json + constraints.json, model-quality constraints of any problem type,
    Clarify's analysis.json. Local paths or s3:// URIs."""
    sources = {}
    options = {}
    for flag, name, _ in IMPORTS:
        value = given.get(flag.removeprefix("--").replace("-", "_"))
        if value:
            sources[name] = value
            options[name] = flag
    if baselines.DATA_STATISTICS not in sources:
        raise click.UsageError("--statistics is required (Model Monitor's statistics.json)")
    monitor = monitor_for(settings, endpoint, out_dir)
    created = monitor.import_baseline(sources, model=model, label=label, options=options)
    if as_json:
        print_json(created)
        return
    manifest = created["manifest"]
    console.print(
        f"baseline imported: {len(manifest['features'])} features"
        + (f", {manifest['problem_type']}" if manifest.get("problem_type") else "")
        + (f", model {manifest['model_sha256'][:12]}…" if "model_sha256" in manifest else "")
    )
    for name, uri in created["files"].items():
        console.print(f"  {name}: {uri}", highlight=False)


def drift_method_option():
    return click.option(
        "--drift-method",
        type=click.Choice(data_quality.DRIFT_METHODS),
        default="linf",
        show_default=True,
        help="Which per-feature distance fires baseline_drift_check: linf (Model Monitor's: "
        "the constraints' comparison_threshold and method), psi, js or wasserstein (their own "
        "thresholds). All are computed and reported.",
    )


def batch_job_option():
    return click.option(
        "--batch-job",
        metavar="ID",
        help="Check a finished batch job's inputs (and outputs) instead of the captures: a "
        "Batch Transform job's name, or the Batch scorer's AWS Batch job id or input key.",
    )


@check_command("data-quality")
@click.option(
    "--data",
    "data_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check this CSV (with a header) instead of the captured requests.",
)
@batch_job_option()
@drift_method_option()
def data_quality_cmd(
    monitor: Monitor,
    window: Window,
    data_file: Path | None,
    batch_job: str | None,
    drift_method: str,
):
    """Captured inputs (or a CSV, or a batch job's inputs) against the baseline:
    data_type, completeness, categorical_values, baseline_drift, missing_column and
    extra_column checks; drift metrics to CloudWatch."""
    if data_file is not None and batch_job is not None:
        raise click.UsageError("give --data or --batch-job, not both")
    return [
        monitor.data_quality(
            window, data_file=data_file, batch_job=batch_job, drift_method=drift_method
        )
    ]


@check_command("prediction-drift")
@batch_job_option()
@drift_method_option()
def prediction_drift_cmd(
    monitor: Monitor, window: Window, batch_job: str | None, drift_method: str
):
    """The model's captured outputs (or a batch job's) against their distribution on the
    baseline data."""
    return [monitor.prediction_drift(window, batch_job=batch_job, drift_method=drift_method)]


@check_command("model-quality")
def model_quality_cmd(monitor: Monitor, window: Window):
    """Captured predictions joined with ground truth (inferenceId, else eventId): the binary
    classification metrics and violations of the baseline's constraints."""
    return [monitor.model_quality(window)]


@check_command("attribution-drift")
@batch_job_option()
def attribution_drift_cmd(monitor: Monitor, window: Window, batch_job: str | None):
    """NDCG of the captured inputs' feature-attribution ranking against the baseline's."""
    return [monitor.attribution_drift(window, batch_job=batch_job)]


@check_command("bias")
@click.option(
    "--facet",
    default=bias.DEFAULT_FACET,
    show_default=True,
    help="COLUMN=VALUE: for a numeric column the facet is the rows with COLUMN > VALUE, for a "
    "String column the rows equal to VALUE.",
)
def bias_cmd(monitor: Monitor, window: Window, facet: str):
    """Clarify's pre- and post-training bias metrics for a facet (labelled captures)."""
    return [monitor.bias(window, facet)]


@check_command("run")
@drift_method_option()
def run_cmd(monitor: Monitor, window: Window, drift_method: str):
    """Every check the baseline supports (what the hourly Batch job runs)."""
    return monitor.run(window, drift_method=drift_method)


@click.command("scenarios")
@click.option(
    "--data",
    "data_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled rows to draw traffic from (default: fresh rows from the sample generator).",
)
@click.option(
    "--rows",
    type=click.IntRange(min=100),
    default=4000,
    show_default=True,
    help="Rows sent per scenario.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--only",
    multiple=True,
    type=click.Choice([s.name for s in scenarios.SCENARIOS]),
    help="Run only these scenarios (repeatable; clean always runs).",
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/monitoring/report"),
    show_default=True,
    help="Where report.html and its PNGs go.",
)
@common_options(window=False)
@click.pass_obj
def scenarios_cmd(
    settings: Settings,
    data_file: Path | None,
    rows: int,
    seed: int,
    only: tuple[str, ...],
    report_dir: Path,
    endpoint: str | None,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Send altered traffic through the endpoint (clean, mean shift, scale change, missing
    values, out-of-range values, label flips, …), run every check on each, and write an HTML
    report with plots."""
    monitor = monitor_for(settings, endpoint, out_dir)
    outcome = scenarios.run(
        monitor,
        data_file=data_file,
        rows=rows,
        seed=seed,
        only=only,
        report_dir=report_dir,
        progress=(lambda line: None) if as_json else err_console.print,
    )
    if as_json:
        print_json(outcome.as_dict())
    else:
        console.print(
            table(
                f"scenarios ({rows} rows each)",
                ["scenario", "expected", "fired", "as expected"],
                [
                    (
                        item.name,
                        ", ".join(item.expected) or "nothing",
                        ", ".join(item.fired) or "nothing",
                        "yes" if item.as_expected else "[bold red]no[/]",
                    )
                    if item.status != "skipped"
                    else (
                        item.name,
                        ", ".join(item.expected),
                        f"[yellow]skipped[/]: {item.reason}",
                        "—",
                    )
                    for item in outcome.scenarios
                ],
            )
        )
        console.print(f"report: {outcome.report}", highlight=False)
    if not all(item.as_expected for item in outcome.scenarios):
        raise ByoError("some scenarios did not fire the checks they should (see the report)")
