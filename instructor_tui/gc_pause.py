"""Python's cyclic garbage collector paused around bulk work that allocates a lot and makes no cycle.

A sync decodes every page into domain objects (portal.wire) and builds the store's rows from them
(store.dossiers): millions of small objects, dicts and tuples, alive until their page is written.
On Python 3.11 they set off collection after collection that find nothing to free, and the full
ones walk every live object of the process (the whole app, the pages in flight). None of that
garbage is cyclic (reference counting frees it), so the sync engine pauses the collector for its
pull (and still collects the young generations now and then, see portal.sync). Pausing around each
decoding or row building only was not enough: the collection then comes right after each call, over
the page just made. Measured on a full sync of 16,900 dossiers (benchmarks/sync.py): ~0.4 s of CPU
less (3.0 instead of 3.4 s).
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
def gc_paused() -> Iterator[None]:
    """The collector off for the block; nested and concurrent blocks (threads) allowed: it comes
    back on after the last one ends, if it was on before the first one began."""
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
