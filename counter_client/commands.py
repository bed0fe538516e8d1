"""`antrian counter`: sign the officer in with a PIN (--officer) or take the counter's token, check
the server and the counter, then run the terminal app; an officer's session ends on quit."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from counter_client.client import Client, check_server_url
from counter_client.credentials import ENV_VAR, TokenError, resolve_token
from counter_client.errors import CounterError, NotFound, Unavailable
from counter_client.models import Snapshot
from texts import t

if TYPE_CHECKING:
    from counter_client.keymap import Keymap


async def preflight(client: Client) -> Snapshot:
    """Check that the server is antrian's, that the counter exists and that the token is its
    own; raises the typed CounterError that says which is wrong."""
    snap = await client.state()
    if snap.counter(client.counter) is None:
        numbers = ", ".join(str(c.number) for c in snap.counters)
        raise NotFound("unknown_counter",
                       t("terminal.unknown_counter", counter=client.counter, numbers=numbers))
    await client.waiting()
    return snap


def read_pin(officer: str) -> str:
    """The officer's PIN: asked without echo at a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        return getpass.getpass(t("terminal.pin_prompt", officer=officer)).strip()
    return sys.stdin.readline().strip()


async def _session(args: argparse.Namespace, token: str | None, keymap: Keymap) -> int:
    async with Client(args.server, args.counter, token, attempts=2) as client:
        if args.officer:
            pin = read_pin(args.officer)
            if not pin:
                print("antrian counter:", t("terminal.pin_missing"), file=sys.stderr)
                return 2
            try:
                await client.sign_in(args.officer, pin)
            except CounterError as exc:  # a wrong PIN, a lock, another counter, no server
                unreachable = isinstance(exc, Unavailable) and exc.code != "pin_locked"
                message = (t("terminal.start_unreachable", message=exc.message) if unreachable
                           else exc.message)
                print(f"antrian counter: {message}", file=sys.stderr)
                return 1 if unreachable else 2
        try:
            return await _run_app(args, client, keymap)
        finally:
            with contextlib.suppress(CounterError):
                await client.sign_out()


async def _run_app(args: argparse.Namespace, client: Client, keymap: Keymap) -> int:
    from counter_client.app import CounterApp

    try:
        snap = await preflight(client)
    except Unavailable as exc:
        message = t("terminal.start_unreachable", message=exc.message)
        print(f"antrian counter: {message}", file=sys.stderr)
        return 1
    except CounterError as exc:
        print(f"antrian counter: {exc.message}", file=sys.stderr)
        return 2
    from textual.logging import TextualHandler

    logging.basicConfig(handlers=[TextualHandler()], level=logging.WARNING, force=True)
    app = CounterApp(client, keymap, call_guard=args.call_guard)
    app.view.apply_snapshot(snap, time.time())  # the site's clock from the first frame
    await app.run_async()
    return 0


def _run(args: argparse.Namespace) -> int:
    try:
        from counter_client import keymap as keymaps  # Textual: the `counter` extra
    except ModuleNotFoundError as exc:
        if exc.name != "textual":
            raise
        print("antrian counter:", t("terminal.not_installed"), file=sys.stderr)
        return 1
    try:
        if args.counter < 1:
            raise ValueError(t("terminal.bad_counter", value=args.counter))
        check_server_url(args.server)
        token = None if args.officer else resolve_token(args.token, args.token_file)
        keymap = keymaps.load_keymap(Path(args.keymap) if args.keymap else None)
    except (TokenError, keymaps.KeymapError, ValueError) as exc:
        print(f"antrian counter: {exc}", file=sys.stderr)
        return 2
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return asyncio.run(_session(args, token, keymap))


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add `antrian counter`. It runs on the officer's machine, which has no site config or
    data dir: `common` (--config, --data-dir) is not added."""
    p = sub.add_parser("counter",
                       help=t("help.counter"))
    p.add_argument("--counter", type=int, required=True, help=t("help.counter_number"))
    p.add_argument("--server", required=True, help=t("help.counter_server"))
    p.add_argument("--officer", help=t("help.counter_officer"))
    p.add_argument("--token", help=t("help.counter_token", variable=ENV_VAR))
    p.add_argument("--token-file", help=t("help.counter_token_file"))
    p.add_argument("--keymap", help=t("help.counter_keymap"))
    p.add_argument("--call-guard", type=float, default=1.0,
                   help=t("help.counter_double_press"))
    p.set_defaults(func=_run)
