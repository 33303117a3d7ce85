"""Where the repository is."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Real files written by Model Monitor's analyzer and by Clarify (SOURCES.md there says where each
# comes from), beside the repository: tests read them in place, never a copy.
MODEL_MONITOR_REFERENCE = REPO.parent / "shared" / "reference" / "model-monitor"
