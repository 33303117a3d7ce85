from __future__ import annotations

from pathlib import Path

import hcl2

from operators.terraform import cli_config, find_mirror, mirrored_providers, write_cli_config


def make_mirror(root: Path, source: str, version: str, target: str) -> None:
    (root / source / version / target).mkdir(parents=True)


def test_mirror_lists_only_providers_built_for_this_platform(tmp_path):
    make_mirror(tmp_path, "registry.terraform.io/hashicorp/aws", "5.100.0", "linux_amd64")
    make_mirror(tmp_path, "registry.terraform.io/hashicorp/aws", "5.99.0", "linux_amd64")
    make_mirror(tmp_path, "registry.terraform.io/hashicorp/random", "3.6.0", "darwin_arm64")
    assert mirrored_providers(tmp_path, "linux_amd64") == ["registry.terraform.io/hashicorp/aws"]
    assert mirrored_providers(tmp_path, "darwin_arm64") == [
        "registry.terraform.io/hashicorp/random"
    ]


def test_no_mirror_means_registry_install(tmp_path):
    assert find_mirror([tmp_path / "absent", tmp_path]) is None
    text = cli_config(None)
    assert "provider_installation" not in text


def unquote(value):
    """python-hcl2 keeps HCL string quotes."""
    if isinstance(value, list):
        return [unquote(v) for v in value]
    return value.strip('"')


def test_mirror_config_installs_mirrored_providers_offline_and_the_rest_direct(tmp_path):
    mirror = (tmp_path, ["registry.terraform.io/hashicorp/aws"])
    parsed = hcl2.loads(cli_config(mirror))
    installation = parsed["provider_installation"][0]
    assert unquote(installation["filesystem_mirror"][0]["path"]) == str(tmp_path)
    assert unquote(installation["filesystem_mirror"][0]["include"]) == mirror[1]
    assert unquote(installation["direct"][0]["exclude"]) == mirror[1]


def test_write_leaves_an_unchanged_file_alone(tmp_path):
    out = tmp_path / "terraform.rc"
    write_cli_config(out, (tmp_path, ["registry.terraform.io/hashicorp/aws"]))
    mtime = out.stat().st_mtime_ns
    write_cli_config(out, (tmp_path, ["registry.terraform.io/hashicorp/aws"]))
    assert out.stat().st_mtime_ns == mtime
