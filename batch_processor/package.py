"""Build the trigger Lambda's zip: byte-identical for identical sources, so Terraform's
source_code_hash only changes when the code does.

    python -m batch_processor.package build/lambda/trigger.zip
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The Lambda needs only these (stdlib + boto3, which the runtime provides).
TRIGGER_FILES = ("__init__.py", "trigger.py")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def build_trigger_zip(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in TRIGGER_FILES:
            info = zipfile.ZipInfo(f"batch_processor/{name}", date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (PACKAGE_DIR / name).read_bytes())
    if out.exists() and out.read_bytes() == tmp.read_bytes():
        tmp.unlink()  # unchanged: keep the old file (and its mtime, for make)
    else:
        tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m batch_processor.package OUTPUT.zip", file=sys.stderr)
        return 2
    print(build_trigger_zip(Path(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
