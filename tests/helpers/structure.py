"""The key structure of a JSON document, to compare the project's files with AWS's own."""

from __future__ import annotations

from typing import Any


def keys_structure(document: Any, *, free: tuple[str, ...] = (), path: str = "") -> set[str]:
    """Every path of the document: dict keys joined by ".", list items as "[]". Below a path in
    `free` the keys are data (feature, label or facet names), so they become "*"."""
    paths: set[str] = set()
    if isinstance(document, dict):
        for key, value in document.items():
            name = "*" if path in free else str(key)
            child = f"{path}.{name}" if path else name
            paths.add(child)
            paths |= keys_structure(value, free=free, path=child)
    elif isinstance(document, list):
        child = f"{path}[]"
        for item in document:
            paths |= keys_structure(item, free=free, path=child)
    return paths


def structural_diff(
    ours: Any, theirs: Any, *, free: tuple[str, ...] = (), only_in_ours: bool = True
) -> list[str]:
    """Paths one document has and the other does not ("+ path": ours only, "- path": theirs
    only), sorted. With only_in_ours=False the extra paths of ours are not reported (a file
    that adds fields is still readable by what reads AWS's)."""
    a, b = keys_structure(ours, free=free), keys_structure(theirs, free=free)
    diff = [f"- {p}" for p in sorted(b - a)]
    if only_in_ours:
        diff += [f"+ {p}" for p in sorted(a - b)]
    return diff
