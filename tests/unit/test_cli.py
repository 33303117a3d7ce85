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
