"""Single-flight reads: overlapping callers share one run, never one that began before them."""

from __future__ import annotations

import asyncio

import pytest

from display_server.singleflight import SingleFlight


class Source:
    """A read that counts its runs and can be held open until the test releases it."""

    def __init__(self) -> None:
        self.runs = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: Exception | None = None

    async def read(self) -> int:
        self.runs += 1
        run = self.runs
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return run


async def test_callers_that_arrive_together_share_one_run() -> None:
    """1,000 screens asking at once cost one read, and all get its result."""
    source = Source()
    flight = SingleFlight(source.read)
    results = await asyncio.gather(*(flight() for _ in range(1000)))
    assert results == [1] * 1000
    assert source.runs == 1


async def test_a_caller_never_joins_a_run_that_began_before_it() -> None:
    """Callers arriving during a run get the next run (one for all of them), so what they
    saw happen before calling is in their result."""
    source = Source()
    flight = SingleFlight(source.read)
    source.gate.clear()
    first = asyncio.create_task(flight())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert source.runs == 1  # run 1 is in progress
    later = [asyncio.create_task(flight()) for _ in range(50)]
    await asyncio.sleep(0)
    assert source.runs == 1  # the later callers wait for run 1 to end
    source.gate.set()
    assert await first == 1
    assert await asyncio.gather(*later) == [2] * 50
    assert source.runs == 2
    assert await flight() == 3  # nothing is cached after a run ends


async def test_an_error_reaches_every_caller_of_its_run_and_is_not_kept() -> None:
    source = Source()
    flight = SingleFlight(source.read)
    source.fail = ConnectionError("redis down")
    results = await asyncio.gather(*(flight() for _ in range(10)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    assert source.runs == 1
    source.fail = None
    assert await flight() == 2


async def test_a_caller_that_leaves_does_not_cancel_the_run_of_the_others() -> None:
    source = Source()
    flight = SingleFlight(source.read)
    source.gate.clear()
    leaving = asyncio.create_task(flight())
    staying = asyncio.create_task(flight())
    await asyncio.sleep(0)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    source.gate.set()
    assert await staying == 1
