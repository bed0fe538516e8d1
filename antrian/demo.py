"""`antrian demo`: simulated visitors and officers, so a demo site's screens come alive. It reads
the server's site secret (never creates one), takes tickets only for services open now, and
shows one Indonesian status line that updates in place."""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import time
from collections import Counter as Tally
from collections.abc import Callable
from typing import Any, TextIO

import httpx

from counter_client.client import Client, check_server_url
from counter_client.errors import Conflict, CounterError, Forbidden, NotFound, Unauthorized
from counter_client.models import ActionResult
from display_server.config import SiteConfig, load_config
from display_server.paths import data_dir
from display_server.tokens import SECRET_FILE, counter_token, kiosk_token, read_secret
from texts import number, t

# what one step does, with its weight: visitors arrive a little faster than they are served
STEPS = (("ticket", 10), ("call-next", 7), ("done", 3), ("recall", 1), ("skip", 1))
SERVICES_EVERY_S = 30.0  # how often the demo asks which services are open
TTY_EVERY_S = 0.25  # the status line's refresh on a terminal
LOG_EVERY_S = 60.0  # ... and when the output is a file or pipe (one line each)


class TokensRefused(Exception):
    """The server refused the demo's access codes: its secret is not the one the demo read."""


class UnknownCounter(Exception):
    """The server does not know a counter of the demo's site config."""

    def __init__(self, counter: int) -> None:
        super().__init__(counter)
        self.counter = counter


async def open_services(http: httpx.AsyncClient) -> list[str]:
    """The codes of the services open now, as the server says (`GET /api/services`)."""
    response = await http.get("/api/services")
    response.raise_for_status()
    return [s["code"] for s in response.json()["services"] if s.get("open")]


def status_text(done: Tally[str], open_now: int) -> str:
    """The demo's one status line."""
    return t("demo.status", open=number(open_now), tickets=number(done["ticket"]),
             calls=number(done["call-next"]), served=number(done["done"]),
             skipped=number(done["skip"]), refused=number(done["refused"]),
             errors=number(done["error"]))


async def simulate(server: str, site: SiteConfig, secret: bytes, *, steps: int,
                   pause: float, rng: random.Random, done: Tally[str] | None = None,
                   report: Callable[[Tally[str], int], None] | None = None) -> Tally[str]:
    """Run `steps` random kiosk and counter actions against a running server (0 = forever),
    `pause` seconds apart; return how many of each were done (`done`, when given, is updated
    as they happen; `report` gets it and the number of open services after each step).

    Tickets are taken only for the services open now (and not those whose quota is
    reached); done, recall and skip go to counters this run has called a visitor to. The
    refusals of a day's work (a 409: a service that just closed, its quota reached, nothing
    to recall) count as `refused`; `call-next` counts calls that found a visitor, `idle`
    those that found nobody, `error` any other failure. Access codes the server refuses
    raise TokensRefused, a counter it does not know UnknownCounter: the demo's secret or
    config is not the server's."""
    done = Tally() if done is None else done
    weights = dict(STEPS)
    shared = httpx.AsyncHTTPTransport()  # one pool (and TLS set-up) for every counter
    clients = {c.number: Client(server, c.number, counter_token(secret, site.id, c.number),
                                transport=shared)
               for c in site.counters}
    kiosk = {"Authorization": f"Bearer {kiosk_token(secret, site.id)}"}  # no per-client limit
    async with httpx.AsyncClient(base_url=server, timeout=10, headers=kiosk) as http:
        try:
            await _check_access(clients)
            services = await open_services(http)
            asked = time.monotonic()
            full: set[str] = set()  # services whose daily quota is reached
            serving: set[int] = set()  # counters this run called a visitor to
            step = 0
            while steps == 0 or step < steps:
                step += 1
                if time.monotonic() - asked > SERVICES_EVERY_S:
                    services, asked = await _refresh(http, services, done), time.monotonic()
                offered = [code for code in services if code not in full]
                kinds = [k for k in weights if k != "ticket" or offered]
                kind = rng.choices(kinds, [weights[k] for k in kinds])[0]
                if kind == "ticket":
                    service = rng.choice(offered)
                    outcome, code = await _ticket(http, service)
                    if code == "quota_reached":  # full for today: offer it no more
                        full.add(service)
                    elif outcome == "refused":  # closed since we asked: ask again
                        services, asked = await _refresh(http, services, done), time.monotonic()
                else:
                    if kind != "call-next" and not serving:
                        kind = "call-next"  # nobody is being served: nothing to finish
                    number = (rng.choice(sorted(serving)) if kind != "call-next"
                              else rng.choice(site.counters).number)
                    outcome = await _counter_step(clients[number], kind)
                    if outcome == "call-next":
                        serving.add(number)
                    elif outcome in ("idle", "done", "skip", "refused"):
                        serving.discard(number)  # a refusal: it serves nobody we know of
                done[outcome] += 1
                if report is not None:
                    report(done, len(services))
                await asyncio.sleep(pause)
        finally:
            for client in clients.values():
                await client.aclose()
            await shared.aclose()
    return done


async def _refresh(http: httpx.AsyncClient, services: list[str], done: Tally[str]) -> list[str]:
    """The services open now; the last known ones (and an error counted) when the server does
    not answer."""
    try:
        return await open_services(http)
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        done["error"] += 1
        return services


async def _check_access(clients: dict[int, Client]) -> None:
    """Ask one counter's waiting list: the cheapest check that the server takes our codes."""
    if not clients:
        return
    client = next(iter(clients.values()))
    try:
        await client.waiting()
    except (Unauthorized, Forbidden) as exc:
        raise TokensRefused() from exc
    except NotFound as exc:
        raise UnknownCounter(client.counter) from exc


async def _ticket(http: httpx.AsyncClient, service: str) -> tuple[str, str]:
    """Take a ticket: the outcome to count, and the error code of a refusal."""
    try:
        response = await http.post("/api/tickets", json={"service": service})
    except httpx.HTTPError:
        return "error", ""
    if response.status_code == 201:
        return "ticket", ""
    if response.status_code == 401:
        raise TokensRefused()
    if response.status_code != 409:
        return "error", ""
    try:
        code = str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        code = ""
    return "refused", code


async def _counter_step(client: Client, kind: str) -> str:
    action: dict[str, Callable[[], Any]] = {
        "call-next": client.call_next, "done": client.done,
        "recall": client.recall, "skip": client.skip,
    }
    try:
        result: ActionResult = await action[kind]()
    except Conflict:
        return "refused"
    except (Unauthorized, Forbidden) as exc:
        raise TokensRefused() from exc
    except CounterError:
        return "error"
    if kind == "call-next" and result.ticket is None:
        return "idle"
    return kind


class StatusLine:
    """One line that updates in place on a terminal; into a file or pipe, a line a minute."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.shown = 0.0
        self.last = ""

    def update(self, done: Tally[str], open_now: int) -> None:
        self.last = status_text(done, open_now)
        now = time.monotonic()
        if now - self.shown < (TTY_EVERY_S if self.tty else LOG_EVERY_S):
            return
        self.shown = now
        self.stream.write(f"\r\x1b[K{self.last}" if self.tty else f"{self.last}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.last:
            self.stream.write(f"\r\x1b[K{self.last}\n" if self.tty else f"{self.last}\n")
            self.stream.flush()


def _demo(args: argparse.Namespace) -> int:
    for noisy in ("httpx", "httpcore"):  # one log line per request otherwise
        logging.getLogger(noisy).setLevel(logging.WARNING)
    site = load_config(args.config)
    directory = data_dir(args.data_dir, create=False)
    secret = read_secret(directory, site.secret)
    if secret is None:
        print("antrian:", t("demo.no_secret", path=directory / SECRET_FILE), file=sys.stderr)
        return 1
    server = check_server_url(args.server)
    print(t("cli.demo_started", server=server), flush=True)
    line = StatusLine(sys.stdout)
    done: Tally[str] = Tally()
    try:
        asyncio.run(simulate(server, site, secret, steps=args.steps, pause=1 / args.rate,
                             rng=random.Random(args.seed), done=done, report=line.update))
    except TokensRefused:
        line.close()
        print("antrian:", t("demo.refused", server=server, data_dir=directory), file=sys.stderr)
        return 1
    except UnknownCounter as exc:
        line.close()
        print("antrian:", t("demo.unknown_counter", server=server, counter=exc.counter),
              file=sys.stderr)
        return 1
    except (CounterError, httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        line.close()
        message = (exc.message if isinstance(exc, CounterError)
                   else t("terminal.unreachable", server=server))
        print("antrian:", t("terminal.start_unreachable", message=message), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        line.close()
        return 0
    line.close()
    return 0


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(t("demo.bad_rate"))
    return value


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("demo", help=t("help.demo"))
    common(p)
    p.add_argument("--server", default="http://127.0.0.1:8000")
    p.add_argument("--rate", type=_positive, default=2.0, help=t("help.demo_rate"))
    p.add_argument("--steps", type=int, default=0, help=t("help.demo_steps"))
    p.add_argument("--seed", type=int, help=t("help.demo_seed"))
    p.set_defaults(func=_demo)
