"""Process settings for the long-running commands (serve, worker).

A webhook call allocates many short-lived objects; CPython's default cyclic-GC threshold
(700 allocations) runs a collection every few calls, and the older generations, which hold
every compiled workflow, are walked over and over. A larger first threshold makes young
collections rarer; freezing what start-up built (settings, schema, compiled examples) takes
it out of every later collection.

On SQLite the database works in a thread of its own (aiosqlite). Every statement there
gives up the GIL and must take it back from a busy event loop, which by default lets go
only every 5 ms (`sys.getswitchinterval()`): each of a commit's statements could wait
that long, and a sync call's p99 under `make bench`'s load was 48 to 80 ms (135 ms in a
later run). With 0.5 ms the same load, run side by side, had a p99 under 10 ms and 8% more
calls per second. 2 ms did better still on a later machine (AMD EPYC): the event loop is
made to let go four times less often, and each hand-over costs both threads a wake-up.
`bench/run.py --only 1,2,5`, one run each: sync ratio 0.30 / 0.30 / 0.33 / 0.34 at
0.5 / 1 / 2 / 5 ms, with a p99 of 16 / 18 / 17 / 135 ms; async 0.18 / 0.22 / 0.22 / 0.22;
the p99 at half rate 4.2 / 2.1 / 2.8 / 2.1 ms. Side by side, 2 ms against 0.5 ms: more
sync calls per second in 5 of 6 pairs (median +6%), more async calls in 4 of 4
(+2 to +10%), and less CPU per call in 5 of 6.
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
