"""Process settings for the long-running commands (serve, worker).

A webhook call allocates many short-lived objects; CPython's default cyclic-GC threshold
(700 allocations) runs a collection every few calls, and the older generations, which hold
every compiled workflow, are walked over and over. A larger first threshold makes young
collections rarer; freezing what start-up built (settings, schema, compiled examples) takes
it out of every later collection.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
_tuned = False


def tune_gc() -> None:
    """For `gateway serve` and `gateway worker`: one application per process."""
    global _tuned
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    _tuned = True


def freeze_startup_objects() -> None:
    """After start-up, in a tuned process only: where many applications come and go in one
    process (tests), frozen objects would never be collected."""
    if _tuned:
        gc.collect()
        gc.freeze()
