"""Where the repository is, and the shared reference files beside it."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The team's shared directory beside the repository (../shared); BYO_SHARED_DIR names another.
SHARED = Path(os.environ.get("BYO_SHARED_DIR") or REPO.parent / "shared")

# Real files written by Model Monitor's analyzer and by Clarify (SOURCES.md there says where each
# comes from): tests read them in place, never a copy.
MODEL_MONITOR_REFERENCE = SHARED / "reference" / "model-monitor"
