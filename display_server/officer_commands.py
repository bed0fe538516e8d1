"""`antrian officer add|list|edit|reset-pin|disable|enable`: the office's officer accounts
(display_server.officers) from the command line, on the site's Redis; output in Indonesian."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from display_server import officers
from display_server.config import SiteConfig, load_config
from display_server.paths import data_dir
from display_server.redis_local import default_url
from display_server.store import Store, connect
from texts import t

Command = Callable[[Store, argparse.Namespace], Awaitable[str]]


def _pin(args: argparse.Namespace) -> str:
    """--pin, or asked twice without echo."""
    if args.pin is not None:
        return str(args.pin)
    first = getpass.getpass(t("officer.cli.pin_prompt"))
    if getpass.getpass(t("officer.cli.pin_again")) != first:
        raise officers.OfficerError(t("officer.cli.pin_mismatch"))
    return first


def _tenant_name(site: SiteConfig, tenant: str) -> str:
    found = site.tenant(tenant)
    return found.name if found else tenant


async def _add(store: Store, args: argparse.Namespace) -> str:
    officer = await officers.add(store, args.id, args.name, args.tenant, args.counters,
                                 _pin(args))
    return t("officer.cli.added", officer=officer.id, name=officer.name,
             tenant=_tenant_name(store.site, officer.tenant),
             counters=", ".join(map(str, officer.counters)))


def table(site: SiteConfig, found: list[officers.Officer]) -> str:
    """The accounts as a text table with Indonesian headings (the PIN never shown)."""
    if not found:
        return t("officer.cli.none")
    heads = [t("officer.col.id"), t("officer.col.name"), t("officer.col.tenant"),
             t("officer.col.counters"), t("officer.col.status")]
    rows = [[o.id, o.name, _tenant_name(site, o.tenant), ", ".join(map(str, o.counters)),
             t("officer.active") if o.active else t("officer.inactive")] for o in found]
    widths = [max(len(r[i]) for r in [heads, *rows]) for i in range(len(heads))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
                     for r in [heads, *rows])


async def _list(store: Store, args: argparse.Namespace) -> str:
    return table(store.site, await officers.all_officers(store))


async def _edit(store: Store, args: argparse.Namespace) -> str:
    officer = await officers.update(store, args.id, name=args.name, tenant=args.tenant,
                                    counters=args.counters)
    return t("officer.cli.edited", officer=officer.id, name=officer.name,
             tenant=_tenant_name(store.site, officer.tenant),
             counters=", ".join(map(str, officer.counters)))


async def _reset_pin(store: Store, args: argparse.Namespace) -> str:
    await officers.reset_pin(store, args.id, _pin(args))
    return t("officer.cli.pin_reset", officer=args.id.strip().lower())


async def _disable(store: Store, args: argparse.Namespace) -> str:
    await officers.set_active(store, args.id, False)
    return t("officer.cli.disabled", officer=args.id.strip().lower())


async def _enable(store: Store, args: argparse.Namespace) -> str:
    await officers.set_active(store, args.id, True)
    return t("officer.cli.enabled", officer=args.id.strip().lower())


async def _run(command: Command, args: argparse.Namespace) -> str:
    site = load_config(args.config)
    redis = connect(default_url(args.redis_url, data_dir(args.data_dir)), pool_size=2,
                    pool_timeout=5)
    try:
        return await command(Store(redis, site), args)
    finally:
        await redis.aclose()


def _main(command: Command) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            print(asyncio.run(_run(command, args)))
        except officers.OfficerError as exc:
            print(f"antrian: {exc}", file=sys.stderr)
            return 2
        return 0
    return run


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add `antrian officer` and its subcommands."""
    p = sub.add_parser("officer", help=t("help.officer"))
    commands = p.add_subparsers(dest="officer_command", required=True)

    def command(name: str, help_text: str, run: Command) -> argparse.ArgumentParser:
        c: argparse.ArgumentParser = commands.add_parser(name, help=help_text)
        common(c)
        c.add_argument("--redis-url", help=t("help.redis_url_serve"))
        c.set_defaults(func=_main(run))
        return c

    add = command("add", t("help.officer_add"), _add)
    add.add_argument("--id", required=True, help=t("help.officer_id"))
    add.add_argument("--name", required=True)
    add.add_argument("--tenant", required=True, help=t("help.officer_tenant"))
    add.add_argument("--counters", required=True, help=t("help.officer_counters"))
    add.add_argument("--pin", help=t("help.officer_pin"))
    command("list", t("help.officer_list"), _list)
    edit = command("edit", t("help.officer_edit"), _edit)
    edit.add_argument("id")
    edit.add_argument("--name")
    edit.add_argument("--tenant")
    edit.add_argument("--counters", help=t("help.officer_counters_now"))
    reset = command("reset-pin", t("help.officer_reset_pin"), _reset_pin)
    reset.add_argument("id")
    reset.add_argument("--pin", help=t("help.officer_pin"))
    command("disable", t("help.officer_disable"), _disable).add_argument(
        "id")
    command("enable", t("help.officer_enable"), _enable).add_argument("id")
