"""`antrian counter`: check the server, the counter and its token, then run the terminal app."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
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


async def _session(args: argparse.Namespace, token: str, keymap: Keymap) -> int:
    from counter_client.app import CounterApp

    async with Client(args.server, args.counter, token, attempts=2) as client:
        try:
            await preflight(client)
        except Unavailable as exc:
            message = t("terminal.start_unreachable", message=exc.message)
            print(f"antrian counter: {message}", file=sys.stderr)
            return 1
        except CounterError as exc:
            print(f"antrian counter: {exc.message}", file=sys.stderr)
            return 2
        from textual.logging import TextualHandler

        logging.basicConfig(handlers=[TextualHandler()], level=logging.WARNING, force=True)
        await CounterApp(client, keymap, call_guard=args.call_guard).run_async()
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
        token = resolve_token(args.token, args.token_file)
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
    p.add_argument("--token", help=t("help.counter_token", variable=ENV_VAR))
    p.add_argument("--token-file", help=t("help.counter_token_file"))
    p.add_argument("--keymap", help=t("help.counter_keymap"))
    p.add_argument("--call-guard", type=float, default=1.0,
                   help=t("help.counter_double_press"))
    p.set_defaults(func=_run)
