"""Worker processes: what is shared reaches each worker once, results equal a serial run, and an
early stop leaves no item running."""

from __future__ import annotations

import os
import time

import pytest

from siting.analysis.parallel import Workers, each_result

#: What this process was given by ``remember`` (in a worker: its setups, in order).
GIVEN: list[str] = []


def remember(tag: str) -> None:
    GIVEN.append(tag)


def report(item: int) -> tuple[int, int, tuple[str, ...]]:
    return item * item, os.getpid(), tuple(GIVEN)


def slow(item: int) -> int:
    time.sleep(0.2)
    return item


def test_each_worker_runs_each_setup_once_before_its_items():
    with Workers(2) as pool:
        assert pool.parallel
        first = pool.share(remember, ("first",))
        one = list(pool.results(report, list(range(12)), first))
        second = pool.share(remember, ("second",))
        two = list(pool.results(report, list(range(12)), second, ordered=False))
    assert [r[0] for r in one] == [k * k for k in range(12)]  # in order
    assert sorted(r[0] for r in two) == [k * k for k in range(12)]
    assert os.getpid() not in {r[1] for r in one + two} and not GIVEN
    for pid in {r[1] for r in one}:  # a worker's setups so far, each once
        assert {r[2] for r in one if r[1] == pid} == {("first",)}
    for pid in {r[1] for r in two}:
        seen = {r[2] for r in two if r[1] == pid}
        assert seen <= {("first", "second"), ("second",)} and len(seen) == 1


def test_one_worker_runs_here_and_each_result_hands_the_setup_over():
    GIVEN.clear()
    with Workers(1) as pool:
        assert not pool.parallel
        shared = pool.share(remember, ("here",))
        assert [r[:2] for r in pool.results(report, [1, 2], shared)] == [(1, os.getpid()), (4, os.getpid())]
    assert GIVEN == ["here"]
    GIVEN.clear()
    spread = list(each_result(report, range(6), workers=2, setup=remember, setup_args=("each",)))
    assert [r[0] for r in spread] == [k * k for k in range(6)] and all(r[2] == ("each",) for r in spread)
    assert not GIVEN


def test_stopping_early_stops_the_queued_items():
    with Workers(2) as pool:
        started = time.monotonic()
        for item in pool.results(slow, list(range(40))):
            if item == 1:
                break
        assert not pool.parallel  # stopped: the 38 items left were not run
    assert time.monotonic() - started < 4  # 40 items of 0.2 s on 2 workers would take 4 s


@pytest.mark.parametrize("n", [0, 1])
def test_no_processes_for_one_worker(n):
    with Workers(n) as pool:
        assert pool.pool is None and pool.n == 1
