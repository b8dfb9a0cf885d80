"""Process settings for the long-running commands (serve, worker).

A webhook call allocates many short-lived objects; CPython's default cyclic-GC threshold
(700 allocations) runs a collection every few calls, and the older generations, which hold
every compiled workflow, are walked over and over. A larger first threshold makes young
collections rarer; freezing what start-up built (settings, schema, compiled examples) takes
it out of every later collection.

On SQLite the database works in a thread of its own (aiosqlite). Every statement there
gives up the GIL and must take it back from a busy event loop, which by default lets go
only every 5 ms (`sys.getswitchinterval()`): each of a commit's statements could wait that
long, which wrecks the p99 of sync calls. A much shorter interval makes every hand-over
cost both threads a wake-up; 2 ms did best in `bench/run.py --only 1,2,5`
(docs/performance.md).
"""

from __future__ import annotations

import gc
import sys

YOUNG_THRESHOLD = 20_000
SWITCH_INTERVAL = 0.002
_tuned = False


def tune_process() -> None:
    """For `gateway serve` and `gateway worker`: one application per process."""
    global _tuned
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    sys.setswitchinterval(SWITCH_INTERVAL)
    _tuned = True


def freeze_startup_objects() -> None:
    """After start-up, in a tuned process only: where many applications come and go in one
    process (tests), frozen objects would never be collected."""
    if _tuned:
        gc.collect()
        gc.freeze()
