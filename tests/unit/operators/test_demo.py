"""The demo's entry point: bad input is one line and exit 2, before any AWS call."""

from __future__ import annotations

from operators import demo


def test_demo_without_a_model_says_how_to_make_one(tmp_path, capsys):
    assert demo.main(["--model-dir", str(tmp_path)]) == 2
    assert "run `make model` first" in capsys.readouterr().err
