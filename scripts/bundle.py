"""The images' source bundle for CodeBuild (terraform/modules/build): a reproducible ZIP.

    python scripts/bundle.py [--root .] [--out build/bundle]

writes <out>/source.zip and <out>/source.zip.sha256 ("<sha256>  source.zip") and prints the
sha256. The bundle holds the git-tracked files the images' Dockerfiles COPY (serving/,
batch_processor/ and operators/Dockerfile, as `make images` builds them), the Dockerfiles and
.dockerignore, at their paths from the repository root: the build context CodeBuild unpacks.

A ZIP, not a tarball: CodeBuild takes an S3 source only as a ZIP file ("For build input stored
in S3 buckets only, you must create a ZIP file", CodeBuild user guide). The same tracked
content gives the same bytes on any machine: entries sorted by path, every timestamp
1980-01-01 00:00 (ZIP's epoch), mode 0644 or 0755 (the executable bit only), no owner, no
extra fields, and entries stored uncompressed: deflate's output differs between zlib builds
(zlib, zlib-ng), stored bytes do not. Files are read from the working tree, so an uncommitted
change to a tracked file changes the bundle, as it changes what `make images` builds.

Standard library only (it runs before any venv exists).
"""

from __future__ import annotations

import argparse
import hashlib
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

DOCKERFILES = ("serving/Dockerfile", "batch_processor/Dockerfile", "operators/Dockerfile")
ALWAYS = (".dockerignore",)
BUNDLE_NAME = "source.zip"
EPOCH = (1980, 1, 1, 0, 0, 0)


class BundleError(Exception):
    """The bundle cannot be made: the message names the file or command and what is wrong."""


def copied_paths(dockerfile: str) -> list[str]:
    """The sources of a Dockerfile's COPY instructions (paths from the build context's root);
    --from copies come from another stage, not from the context."""
    sources: list[str] = []
    logical = ""
    for raw in dockerfile.splitlines():
        line = raw.strip()
        if not logical and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical, line = "", logical + line
        words = shlex.split(line, comments=False)
        if not words or words[0].upper() != "COPY":
            continue
        if any(w.startswith("--from") for w in words[1:]):
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        sources.extend(a.rstrip("/") or "." for a in args[:-1])
    return sources


def bundle_paths(root: Path) -> list[str]:
    """Every file of the bundle, sorted: the git-tracked files under what the Dockerfiles
    copy, the Dockerfiles, and .dockerignore."""
    wanted = set(ALWAYS)
    for name in DOCKERFILES:
        path = root / name
        if not path.is_file():
            raise BundleError(f"{path} does not exist: the bundle holds what it copies")
        wanted.add(name)
        wanted.update(copied_paths(path.read_text()))
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--", *sorted(wanted)],
        capture_output=True,
        text=True,
    )
    if listed.returncode != 0:
        raise BundleError(f"git ls-files in {root} failed: {listed.stderr.strip()}")
    files = sorted({p for p in listed.stdout.split("\0") if p})
    missing = [p for p in files if not (root / p).is_file()]
    if missing:
        raise BundleError(
            f"tracked but missing from the working tree: {', '.join(missing)} "
            "(restore them or `git rm` them)"
        )
    absent = sorted(w for w in wanted if not any(f == w or f.startswith(w + "/") for f in files))
    if absent:
        raise BundleError(f"the Dockerfiles copy {', '.join(absent)}, which git does not track")
    return files


def write_bundle(root: Path, out: Path) -> str:
    """Write <out>/source.zip and its .sha256 file; return the sha256 (hex)."""
    files = bundle_paths(root)
    out.mkdir(parents=True, exist_ok=True)
    target = out / BUNDLE_NAME
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in files:
            path = root / name
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.create_system = 3  # Unix: the mode below is read as one
            mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, path.read_bytes())
    partial.replace(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    (out / f"{BUNDLE_NAME}.sha256").write_text(f"{digest}  {BUNDLE_NAME}\n")
    return digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository root")
    parser.add_argument("--out", type=Path, default=Path("build/bundle"), help="output directory")
    args = parser.parse_args(argv)
    try:
        digest = write_bundle(args.root, args.out)
    except BundleError as exc:
        print(f"bundle.py: {exc}", file=sys.stderr)
        return 1
    print(f"{digest}  {args.out / BUNDLE_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
