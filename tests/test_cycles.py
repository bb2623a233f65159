"""Pausing the cycle collector: overlapping pauses, and a collector that was off stays off."""

from __future__ import annotations

import gc

from cityhub.cycles import no_cycle_collection


def test_the_collector_runs_again_when_the_last_of_overlapping_pauses_ends():
    assert gc.isenabled()
    first, second = no_cycle_collection(), no_cycle_collection()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second job still runs
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off():
    gc.disable()
    try:
        with no_cycle_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_error_in_the_block_still_ends_the_pause():
    try:
        with no_cycle_collection():
            raise KeyError("x")
    except KeyError:
        pass
    assert gc.isenabled()
