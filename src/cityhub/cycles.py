"""Pausing Python's cycle collector while a bulk job builds many objects it keeps.

Reading a register or a file of a hundred thousand rows creates hundreds of thousands of
small containers that live until they are written; the collector would traverse them again
and again (it doubled the time of a connector run, and took a tenth of an import) and find
nothing, since they hold no cycles. Memory is still freed by reference counting.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause the cycle collector for the block. Pauses may overlap (jobs in several
    threads): the collector runs again when the last one ends, if it ran before the first."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
