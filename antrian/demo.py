"""`antrian demo`: simulated visitors and officers, so a demo site's screens come alive."""

from __future__ import annotations

import argparse
import asyncio
import random
from collections import Counter as Tally
from collections.abc import Callable
from typing import Any

import httpx

from counter_client.client import Client, check_server_url
from counter_client.errors import Conflict
from display_server.config import SiteConfig, load_config
from display_server.paths import data_dir
from display_server.tokens import counter_token, kiosk_token, load_secret
from texts import t

# what one step does, with its weight: visitors arrive a little faster than they are served
STEPS = (("ticket", 10), ("call-next", 7), ("done", 3), ("recall", 1), ("skip", 1))


async def simulate(server: str, site: SiteConfig, secret: bytes, *, steps: int,
                   pause: float, rng: random.Random) -> Tally[str]:
    """Run `steps` random kiosk and counter actions against a running server (0 = forever),
    `pause` seconds apart; return how many of each were done. Refusals (a closed service,
    nothing to recall) are part of a day's work and are counted, not raised."""
    done: Tally[str] = Tally()
    kinds = [k for k, _ in STEPS]
    weights = [w for _, w in STEPS]
    clients = {c.number: Client(server, c.number, counter_token(secret, site.id, c.number))
               for c in site.counters}
    kiosk = {"Authorization": f"Bearer {kiosk_token(secret, site.id)}"}  # no per-client limit
    async with httpx.AsyncClient(base_url=server, timeout=10, headers=kiosk) as http:
        try:
            step = 0
            while steps == 0 or step < steps:
                step += 1
                kind = rng.choices(kinds, weights)[0]
                if kind == "ticket":
                    service = rng.choice(site.services).code
                    r = await http.post("/api/tickets", json={"service": service})
                    done["ticket" if r.status_code == 201 else "refused"] += 1
                else:
                    client = clients[rng.choice(site.counters).number]
                    action: dict[str, Callable[[], Any]] = {
                        "call-next": client.call_next, "done": client.done,
                        "recall": client.recall, "skip": client.skip,
                    }
                    try:
                        await action[kind]()
                        done[kind] += 1
                    except Conflict:
                        done["refused"] += 1
                await asyncio.sleep(pause)
        finally:
            for client in clients.values():
                await client.aclose()
    return done


def _demo(args: argparse.Namespace) -> int:
    site = load_config(args.config)
    secret = load_secret(data_dir(args.data_dir), site.secret)
    server = check_server_url(args.server)
    print(t("cli.demo_started", server=server))
    done = asyncio.run(simulate(server, site, secret, steps=args.steps, pause=1 / args.rate,
                                rng=random.Random(args.seed)))
    print(", ".join(f"{k}: {v}" for k, v in sorted(done.items())))
    return 0


def _positive(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError("must be between 0 and 1000")
    return value


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("demo", help="simulate visitors and officers on a running demo server")
    common(p)
    p.add_argument("--server", default="http://127.0.0.1:8000")
    p.add_argument("--rate", type=_positive, default=2.0, help="actions per second (default 2)")
    p.add_argument("--steps", type=int, default=0, help="stop after this many (default: never)")
    p.add_argument("--seed", type=int, help="random seed, for a repeatable run")
    p.set_defaults(func=_demo)
