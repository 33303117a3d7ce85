"""Hooks on moto's classes that a service installs in start() and takes back in stop().

A hook replaces one attribute of a class (a method, usually wrapping moto's own) and remembers
the original, so that stop() leaves moto as it found it — unless someone replaced the attribute
again after us, in which case their replacement (which may wrap ours) is left alone.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("localaws.runtime.hooks")


class Hooks:
    def __init__(self) -> None:
        self._installed: list[tuple[type, str, Any, Any]] = []

    def install(self, owner: type, name: str, replacement: Any) -> Any:
        """Put `replacement` on `owner` as `name`; return what `owner.name` was before (to wrap
        it; None if nothing)."""
        wrapped = getattr(owner, name, None)
        self._installed.append((owner, name, owner.__dict__.get(name), replacement))
        setattr(owner, name, replacement)
        return wrapped

    def restore(self) -> None:
        while self._installed:
            owner, name, original, replacement = self._installed.pop()
            if owner.__dict__.get(name) is not replacement:
                log.warning("%s.%s was replaced after our hook: left as it is", owner, name)
                continue
            if original is None:  # inherited, or new: what the class had shows again
                delattr(owner, name)
            else:
                setattr(owner, name, original)
