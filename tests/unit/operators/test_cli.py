from __future__ import annotations

from click.testing import CliRunner

from operators.cli import cli


def test_help_lists_the_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "demo" in result.output


def test_demo_without_a_model_says_how_to_make_one(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--model-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "make model" in str(result.exception)


def test_byo_starts_without_the_heavy_libraries():
    """xgboost (which imports scikit-learn and SciPy), matplotlib and the SageMaker SDK take
    seconds to import: only the commands that use them load them, so `byo --help`, `byo status`
    and `byo traffic …` start fast."""
    import subprocess
    import sys

    heavy = ("xgboost", "sklearn", "scipy", "matplotlib", "sagemaker")
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, operators.cli; print(','.join(m for m in {heavy!r} if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert loaded == ""
