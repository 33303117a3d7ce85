"""What a sketch worker process runs (see data_quality._Sketches): a module of its own that
imports only numpy, datasketches and shared memory, so a worker does not load pyarrow and the
rest of the monitoring package (~35 MiB of its peak RSS, counted in the issue's memory limit)."""

from __future__ import annotations

from multiprocessing.shared_memory import SharedMemory

import numpy as np
from datasketches import kll_doubles_sketch

KLL_K = 2048


def sketch_of(values: np.ndarray) -> kll_doubles_sketch:
    sketch = kll_doubles_sketch(KLL_K)
    if len(values):
        # datasketches takes a writable array (a zero-copy view of arrow's buffer is not).
        sketch.update(np.require(values, np.float64, ["C", "W"]))
    return sketch


def sketch_shared(segment: str, length: int) -> bytes:
    """The serialized sketch of a shared memory segment's first `length` float64 values."""
    shared = SharedMemory(name=segment)
    try:
        values = np.ndarray((length,), np.float64, shared.buf)
        sketch = sketch_of(values)
        del values  # the segment cannot close while a view of it is alive
        return sketch.serialize()
    finally:
        shared.close()
