"""`antrian demo` drives a running server the way visitors and officers would."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx

from antrian.demo import simulate
from display_server.config import load_config
from display_server.tokens import load_secret


async def test_demo_issues_tickets_and_calls_them(server_factory: Any, tmp_path: Path) -> None:
    """A seeded run of 200 steps issues tickets and calls some, and the server agrees."""
    server = server_factory()
    site = load_config(str(server_factory.config))
    done = await simulate(server.url, site, load_secret(tmp_path), steps=200, pause=0,
                          rng=random.Random(7))
    assert sum(done.values()) == 200
    assert done["ticket"] > 50 and done["call-next"] > 30
    state = httpx.get(server.url + "/api/state").json()
    issued_waiting = sum(state["waiting"].values())
    assert issued_waiting < done["ticket"]
    assert state["recent"], "the TVs would show calls"
