"""One pause of the cyclic collector for the whole process: an import and a recompute that
overlap (threads of the API and the scheduler) resume it only when the last one ends, and
leave it as they found it."""

from __future__ import annotations

import gc

from qunzhu.store.gc_pause import gc_paused


def test_overlapping_runs_resume_collection_only_when_the_last_one_ends():
    assert gc.isenabled()
    first, second = gc_paused(), gc_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second run's rows are still alive
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off():
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
