"""chalicelib.cache: one first load, stale values served while one thread reloads, failures
keep the last good value, invalidate drops a reload already under way."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.cache import Refreshing
from chalicelib.store import StoreUnavailable


class Loader:
    def __init__(self) -> None:
        self.calls = 0
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self) -> int:
        self.gate.wait(10)
        self.calls += 1
        if self.fail:
            raise StoreUnavailable("store down")
        return self.calls


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.01)


def test_concurrent_first_reads_share_one_load() -> None:
    load = Loader()
    load.gate.clear()
    cache = Refreshing("x", load, ttl=60)
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(cache.get) for _ in range(8)]
        time.sleep(0.1)
        load.gate.set()
        assert [f.result() for f in futures] == [1] * 8
    assert load.calls == 1


def test_a_stale_value_is_served_while_one_thread_reloads_it() -> None:
    load = Loader()
    cache = Refreshing("x", load, ttl=0.05)
    assert cache.get() == 1
    time.sleep(0.06)
    load.gate.clear()  # the reload blocks: readers must not wait for it
    started = time.monotonic()
    assert [cache.get() for _ in range(20)] == [1] * 20
    assert time.monotonic() - started < 1.0
    load.gate.set()
    wait_for(lambda: cache.get() == 2)
    assert load.calls == 2  # twenty stale reads started one reload, not twenty


def test_a_failed_reload_keeps_the_last_good_value_and_is_tried_again() -> None:
    load = Loader()
    cache = Refreshing("x", load, ttl=0.05)
    assert cache.get() == 1
    load.fail = True
    time.sleep(0.06)
    assert cache.get() == 1
    wait_for(lambda: load.calls == 2)
    assert cache.get() == 1  # still the good value; this read starts another try
    load.fail = False
    wait_for(lambda: cache.get() > 1)


def test_the_first_load_failing_reaches_the_caller() -> None:
    load = Loader()
    load.fail = True
    cache = Refreshing("x", load, ttl=60)
    with pytest.raises(StoreUnavailable, match="store down"):
        cache.get()
    load.fail = False
    assert cache.get() == 2


def test_invalidate_drops_a_reload_under_way_and_the_next_read_loads() -> None:
    load = Loader()
    cache = Refreshing("x", load, ttl=0.05)
    assert cache.get() == 1
    time.sleep(0.06)
    load.gate.clear()
    assert cache.get() == 1  # starts a reload that blocks
    cache.invalidate()
    load.gate.set()
    fresh = cache.get()
    assert fresh in (2, 3)  # a fresh load, not the stale 1
    wait_for(lambda: load.calls == 3)
    assert cache.get() == fresh  # the reload begun before invalidate was not stored over it


def test_a_zero_lifetime_loads_on_every_read() -> None:
    load = Loader()
    cache = Refreshing("x", load, ttl=0)
    assert [cache.get(), cache.get(), cache.get()] == [1, 2, 3]


def test_warm_loads_in_the_background_and_a_read_meanwhile_waits_for_that_load() -> None:
    load = Loader()
    load.gate.clear()
    cache = Refreshing("x", load, ttl=60)
    cache.warm()  # returns at once
    time.sleep(0.05)
    with ThreadPoolExecutor(1) as pool:
        read = pool.submit(cache.get)
        time.sleep(0.05)
        assert not read.done()
        load.gate.set()
        assert read.result() == 1
    assert load.calls == 1
