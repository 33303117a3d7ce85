from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from operators.cli import COMMANDS, LazyGroup, cli
from operators.cli.options import guarded
from operators.errors import ConfigError

HEAVY = ("xgboost", "sklearn", "scipy", "matplotlib", "sagemaker")


def loaded_after(code: str) -> dict[str, list[str]]:
    """The heavy libraries and the command modules a fresh interpreter holds after `code`."""
    probe = (
        "import json, sys\n"
        f"{code}\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "commands = sorted(m for m in sys.modules if m.startswith('operators.cli.')\n"
        "                  and m != 'operators.cli.options')\n"
        "print(json.dumps({'heavy': heavy, 'commands': commands}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.splitlines()[-1])


def test_help_lists_the_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:")[1]
    assert [line.split()[0] for line in listed.strip().splitlines()] == sorted(COMMANDS)
    assert "demo" not in listed  # the demo is `python -m operators.demo`, not a command


@pytest.mark.parametrize("path", [[], ["pipeline"], ["monitor"]])
def test_the_command_map_says_what_each_command_says_of_itself(path):
    """The map's line is what `--help` lists without loading the command: it must be the
    command's own first sentence, and the command must be where the map says."""
    group = cli
    for name in path:
        group = group.get_command(click.Context(group), name)
    assert isinstance(group, LazyGroup)
    for name, lazy in group.lazy_commands.items():
        command = group.get_command(click.Context(group), name)
        assert isinstance(command, click.Command), f"{path} {name}: {lazy.target}"
        assert command.name == name
        assert command.hidden == lazy.hidden
        listed = click.Command(name, help=lazy.short_help).get_short_help_str(1000)
        assert listed == command.get_short_help_str(1000), f"{name}: update its line in the map"


def test_byo_help_imports_no_command_and_no_heavy_library():
    """xgboost (which imports scikit-learn and SciPy), matplotlib and the SageMaker SDK take
    seconds to import: `byo --help` lists the commands from the map, loading none of them."""
    loaded = loaded_after(
        "from click.testing import CliRunner\n"
        "from operators.cli import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0"
    )
    assert loaded == {"heavy": [], "commands": []}


@pytest.mark.parametrize(
    "module",
    [
        "status",
        "invoke",
        "model",
        "deploy",
        "traffic",
        "batch",
        "teardown",
        "ground_truth",
        "monitor",
    ],
)
def test_everyday_commands_start_without_the_heavy_libraries(module):
    loaded = loaded_after(f"import operators.cli.{module}")
    assert loaded == {"heavy": [], "commands": [f"operators.cli.{module}"]}


def test_byo_pipeline_loads_its_steps_only_for_a_step():
    assert "xgboost" not in loaded_after("import operators.cli.pipeline")["heavy"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--steps", "10,x", "Invalid value for --steps: '10,x': comma-separated numbers"),
        ("--interval", "soon", "Invalid value for --interval: 'soon': e.g. 60s or 5m"),
    ],
)
def test_bad_shift_steps_or_interval_are_usage_errors(option, value, message):
    result = CliRunner().invoke(cli, ["traffic", "shift", "--to", "variant-b", option, value])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_expected_failures_are_one_line_and_an_exit_code(capsys):
    def fail(error: Exception):
        raise error

    assert guarded(fail, ConfigError("no endpoint_name")) == 2
    assert capsys.readouterr().err.strip() == "error: no endpoint_name"
    assert guarded(fail, KeyboardInterrupt()) == 130
    assert guarded(lambda: None) == 0


def test_an_exit_code_a_command_asks_for_is_the_process_exit_code():
    """`byo monitor … --fail-on-violations` exits 3 through click's ctx.exit / Exit(3), which
    click's main returns (not raises) outside standalone mode."""

    @click.command()
    def violations() -> None:
        raise click.exceptions.Exit(3)

    assert guarded(violations.main, [], standalone_mode=False) == 3
