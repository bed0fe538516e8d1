"""The `antrian` command: serve, token, report, and the subcommands of the other packages."""

from __future__ import annotations

import argparse
import logging
import math
import os
import resource
import signal
import sys
from collections.abc import Sequence

from redis.exceptions import RedisError

from display_server.config import ConfigError, SiteConfig, load_config
from display_server.paths import data_dir
from display_server.settings import Settings, SettingsError
from display_server.tokens import (
    SECRET_FILE,
    admin_token,
    counter_token,
    kiosk_token,
    load_secret,
)
from texts import t

log = logging.getLogger("antrian")


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from antrian import host_sites
    from display_server.archive import commands as archive_commands
    from display_server.guard import GuardedHttpTools, GuardedWebSocket
    from display_server.redis_local import LocalRedis, RedisNotFoundError

    configs: list[str] = args.config or []
    # fail fast with a clear message before starting anything
    sites = [load_config(path) for path in configs] or [load_config(None)]
    if len(sites) > 1:  # several sites, chosen by Host: each names its hosts
        host_sites.check_sites(sites)
    site = sites[0]
    settings = Settings.from_env(kiosk=site.kiosk)
    raise_open_files_limit()
    directory = data_dir(args.data_dir)
    own_dirs = ([directory] if len(sites) == 1
                else [host_sites.site_data_dir(directory, one) for one in sites])
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its steps are no news to the office
    for own in own_dirs:  # once, before the workers start
        if archive_commands.migrate(own) is None:
            return 1
    local: LocalRedis | None = None
    url = args.redis_url or os.environ.get("ANTRIAN_REDIS_URL")
    if not url:
        try:
            local = LocalRedis(directory)
        except RedisNotFoundError as exc:
            print(f"antrian: {exc}", file=sys.stderr)
            return 1
        url = local.start()
    os.environ.update({"ANTRIAN_REDIS_URL": url, "ANTRIAN_DATA_DIR": str(directory)})
    os.environ.pop(host_sites.CONFIGS_ENV, None)
    if len(sites) > 1:
        os.environ[host_sites.CONFIGS_ENV] = os.pathsep.join(os.path.abspath(p) for p in configs)
    elif configs:
        os.environ["ANTRIAN_CONFIG"] = os.path.abspath(configs[0])
    # uvicorn re-raises the stop signal once it has shut down; take it here so that the
    # local Redis below is stopped cleanly instead of the process dying first.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    from antrian.startup import log_config, start_block
    from display_server import action_log

    if len(sites) == 1:
        print(start_block(site, args.host, args.port, directory), flush=True)
    else:
        print(host_sites.start_lines(sites, own_dirs, args.port), flush=True)
    try:
        uvicorn.run(
            "antrian.main:create_from_env", factory=True, host=args.host, port=args.port,
            workers=args.workers, log_level=args.log_level, timeout_graceful_shutdown=5,
            http=GuardedHttpTools, ws=GuardedWebSocket, ws_max_size=64 * 1024,
            ws_per_message_deflate=False,
            # X-Forwarded-For is believed only from the proxies the site names
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=list(settings.trusted_proxies) or None,
            limit_concurrency=settings.max_connections,
            timeout_keep_alive=math.ceil(settings.keep_alive_s),
            log_config=(log_config() if args.log_format == "text"
                        else action_log.json_log_config(log_config())),
        )
        print(t("serve.stopped"), flush=True)
    finally:
        if local is not None:
            local.stop()
    return 0


def raise_open_files_limit() -> None:
    """Let this process open as many files as its hard limit allows: every screen holds a
    socket, and the soft limit (often 1,024) is below the screens of a large site."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == hard:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as exc:
        log.warning("open files limit stays at %d (hard limit %d): %s", soft, hard, exc)


def _site_secret(site: SiteConfig, explicit_dir: str | None) -> bytes:
    """The secret `antrian token` signs with; when it has to create it, a warning on stderr: a
    server started with another data dir refuses what is printed (antrian demo only reads it)."""
    directory = data_dir(explicit_dir)
    fresh = not site.secret and not (directory / SECRET_FILE).exists()
    secret = load_secret(directory, site.secret)
    if fresh:
        print("antrian:", t("token.new_secret", path=directory / SECRET_FILE), file=sys.stderr)
    return secret


def _token(args: argparse.Namespace) -> int:
    site = load_config(args.config)
    if args.admin or args.kiosk:
        make = admin_token if args.admin else kiosk_token
        print(make(_site_secret(site, args.data_dir), site.id))
        return 0
    if site.counter(args.counter) is None:
        numbers = ", ".join(str(c.number) for c in site.counters)
        print("antrian:", t("cli.unknown_counter", counter=args.counter, known=numbers),
              file=sys.stderr)
        return 2
    print(counter_token(_site_secret(site, args.data_dir), site.id, args.counter))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from antrian.arguments import Parser

    parser = Parser(prog="antrian", description=t("cli.description"))
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", help=t("help.config"))
        p.add_argument("--data-dir", help=t("help.data_dir"))

    serve = sub.add_parser("serve", help=t("help.serve"))
    # --config may repeat: several sites in one set of processes, chosen by Host
    serve.add_argument("--config", action="append", help=t("help.config_sites"))
    serve.add_argument("--data-dir", help=t("help.data_dir"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--redis-url", help=t("help.redis_url_local"))
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--log-format", choices=("text", "json"), default="text",
                       help=t("help.log_format"))
    serve.set_defaults(func=_serve)

    token = sub.add_parser("token",
                           help=t("help.token"))
    common(token)
    whose = token.add_mutually_exclusive_group(required=True)
    whose.add_argument("--counter", type=int)
    whose.add_argument("--admin", action="store_true", help=t("help.token_admin"))
    whose.add_argument("--kiosk", action="store_true",
                       help=t("help.token_kiosk"))
    token.set_defaults(func=_token)

    from antrian import demo
    from audio import commands as audio_commands
    from counter_client import commands as counter_commands
    from display_screens import recap, skm_page
    from display_server import backup as backup_commands
    from display_server import officer_commands, report, simulate
    from display_server.archive import commands as archive_commands

    report.register(sub, common, recap_pdf=recap.write_pdf, skm_pdf=skm_page.print_report)
    demo.register(sub, common)
    audio_commands.register(sub, common)
    counter_commands.register(sub, common)
    simulate.register(sub, common)
    archive_commands.register(sub, common)
    officer_commands.register(sub, common)
    backup_commands.register(sub, common)
    from display_server import config_commands
    config_commands.register(sub, common)
    from antrian import install
    install.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except (ConfigError, SettingsError) as exc:
        print(f"antrian: {exc}", file=sys.stderr)
        return 2
    except RedisError as exc:
        print("antrian:", t("cli.redis_unreachable", error=exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


