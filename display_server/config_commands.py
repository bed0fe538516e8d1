"""`antrian config export [--out FILE]`: the effective site config (the seed TOML with the office's
live settings from Redis laid over it) written as TOML, which read back gives the same config."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import tomli_w

from display_server.config import load_config
from display_server.keys import SiteKeys
from display_server.live_config import effective, effective_document
from display_server.paths import data_dir
from display_server.redis_local import default_url
from display_server.store import connect
from texts import t


async def _stored(url: str, site_id: str) -> dict[str, str]:
    redis = connect(url, pool_size=2, pool_timeout=5)
    try:
        raw = cast(dict[str, str], await redis.hgetall(SiteKeys(site_id)("settings")))
        return raw
    finally:
        await redis.aclose()


def export_text(document: dict[str, Any], source: str, version: int) -> str:
    """The TOML text of an effective document, with a comment line saying where it is from."""
    head = "# " + t("config_export.header", source=source, version=version) + "\n\n"
    return head + tomli_w.dumps(document)


def _export(args: argparse.Namespace) -> int:
    seed = load_config(args.config)
    url = default_url(args.redis_url, data_dir(args.data_dir))
    raw = asyncio.run(_stored(url, seed.id))
    overrides = json.loads(raw.get("overrides") or "{}")
    version = int(raw.get("version") or 0)
    effective(seed, overrides)  # the same checks as the server's: a bad one is named
    assert seed.document is not None
    text = export_text(effective_document(seed.document, overrides), seed.source, version)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    # the config may hold the site's secret: only its owner reads it
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(t("config_export.written", path=out, version=version), file=sys.stderr)
    return 0


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add `antrian config export`."""
    p = sub.add_parser("config", help=t("config_export.help_group"))
    commands = p.add_subparsers(dest="config_command", required=True)
    export = commands.add_parser("export", help=t("config_export.help"))
    common(export)
    export.add_argument("--redis-url", help=t("config_export.help_redis"))
    export.add_argument("--out", help=t("config_export.help_out"))
    export.set_defaults(func=_export)
