"""What `antrian serve` prints when it starts: the URLs of the pages it serves (for the address it
listens on, or this machine's addresses when it listens on all of them) and how to get the
access codes."""

from __future__ import annotations

import copy
import ipaddress
import logging
import socket
from pathlib import Path
from typing import Any

from display_server.config import SiteConfig
from texts import t

ANY_ADDRESS = {"0.0.0.0", "::", ""}


def machine_addresses() -> list[str]:
    """This machine's IPv4 addresses others can reach it on (the one of the default route
    first), without loopback; empty when it has none."""
    found: list[str] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: a UDP connect sends no packet
            found.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    found += [str(info[4][0]) for info in infos]
    unique: list[str] = []
    for address in found:
        if address not in unique and not ipaddress.ip_address(address).is_loopback:
            unique.append(address)
    return unique


def base_urls(host: str, port: int) -> list[str]:
    """The base URLs a browser can use for a server listening on `host`:`port`, the one to show
    first; 0.0.0.0 or :: (every address) is this machine's addresses, then 127.0.0.1."""
    hosts = [*machine_addresses(), "127.0.0.1"] if host in ANY_ADDRESS else [host]
    return [f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"
            for name in hosts]


def start_block(site: SiteConfig, host: str, port: int, data_dir: Path) -> str:
    """The Indonesian block `antrian serve` prints before it starts listening."""
    urls = base_urls(host, port)
    base = urls[0]
    first = site.counters[0].number if site.counters else 1
    pages = [
        (t("serve.home"), "/"),
        (t("serve.display"), "/display"),
        (t("serve.kiosk"), "/kiosk"),
        (t("serve.counter", n=first), f"/counter/{first}"),
        (t("serve.admin"), "/admin"),
    ]
    width = max(len(label) for label, _ in pages)
    lines = [t("serve.ready", site=site.name)]
    lines += [f"  {label.ljust(width)}  {base}{path}" for label, path in pages]
    if len(urls) > 1:
        lines.append(t("serve.also", urls=", ".join(f"{url}/" for url in urls[1:])))
    lines.append(t("serve.tokens", data_dir=data_dir))
    lines.append(t("serve.stop"))
    return "\n".join(lines)


# uvicorn's English start and stop lines, which the block above and "Server berhenti." replace
UVICORN_CHATTER = ("Started server process", "Waiting for application startup",
                   "Application startup complete", "Uvicorn running on", "Shutting down",
                   "Waiting for application shutdown", "Application shutdown complete",
                   "Finished server process")


class QuietStart(logging.Filter):
    """Drops uvicorn's start and stop lines; its warnings, errors and access log stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(UVICORN_CHATTER)


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with its start and stop lines left out."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["antrian_quiet_start"] = {"()": QuietStart}
    config["loggers"]["uvicorn.error"]["filters"] = ["antrian_quiet_start"]
    return config
