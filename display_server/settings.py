"""The server's process settings: read once, at start, from the site TOML's `[kiosk]` and the
environment (which overrides it), and validated.

A bad value stops the start with a message that names the field or variable; nothing reads the
environment per request.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from texts import t

T = TypeVar("T")
N = TypeVar("N", int, float)
RATE = re.compile(r"([0-9]{1,5})/([0-9]{1,5})")
PRINTER = re.compile(r"/[^\s]+|tcp://[A-Za-z0-9.:\[\]-]+:[0-9]{1,5}")


class SettingsError(ValueError):
    """A setting with a value the server cannot use; the message names the variable."""


@dataclass(frozen=True)
class Rate:
    """At most `count` requests per `seconds`, per client."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        match = RATE.fullmatch(text.strip())
        if match is None or int(match[1]) < 1 or int(match[2]) < 1:
            raise ValueError(t("settings.rate"))
        return cls(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class Kiosk:
    """The site TOML's `[kiosk]` (parsed by display_server.config): each value unset is None."""

    rate: Rate | None = None          # rate = "12/60": tickets per client on the kiosk page
    printer: str | None = None        # printer = "/dev/usb/lp0" or "tcp://HOST:9100"
    public_url: str | None = None     # public_url = "https://...": base of the ticket QR links


@dataclass(frozen=True)
class Settings:
    """Every tunable of a server process. Defaults suit one MPP building on one small server."""

    stream_maxlen: int = 100_000          # ANTRIAN_STREAM_MAXLEN: events kept for replay
    heartbeat_s: float = 10.0             # ANTRIAN_HEARTBEAT_SECONDS
    redis_pool_size: int = 64             # ANTRIAN_REDIS_POOL_SIZE: connections per process
    redis_pool_timeout_s: float = 5.0     # ANTRIAN_REDIS_POOL_TIMEOUT: wait for a free one
    ticket_rate: Rate = Rate(30, 60)      # ANTRIAN_TICKET_RATE: anonymous POST /api/tickets
    kiosk_rate: Rate = Rate(12, 60)       # ANTRIAN_KIOSK_RATE: the kiosk page, per client
    trusted_proxies: tuple[str, ...] = () # ANTRIAN_TRUSTED_PROXIES: comma-separated addresses
    public_url: str | None = None         # ANTRIAN_PUBLIC_URL: base of the ticket QR links
    printer: str | None = None            # ANTRIAN_KIOSK_PRINTER: /dev/usb/lp0 or tcp://H:P:
                                          # the server prints tickets (None: the browser does)
    max_connections: int = 4096           # ANTRIAN_MAX_CONNECTIONS: per process
    max_connections_per_client: int = 256 # ANTRIAN_MAX_CONNECTIONS_PER_CLIENT: per address
    request_timeout_s: float = 10.0       # ANTRIAN_REQUEST_TIMEOUT: to send a request's headers
    keep_alive_s: float = 5.0             # ANTRIAN_KEEP_ALIVE: idle time between requests
    max_header_bytes: int = 16 * 1024     # ANTRIAN_MAX_HEADER_BYTES
    max_screens: int = 500                # ANTRIAN_MAX_SCREENS: registered / acknowledging a day
    survey_rate: Rate = Rate(10, 60)      # ANTRIAN_SURVEY_RATE: survey answers per client
    survey_minutes: int = 10              # ANTRIAN_SURVEY_MINUTES: the counter tablet offers a
                                          # ticket's survey this long after it was finished
    pin_attempts: int = 5                 # ANTRIAN_PIN_ATTEMPTS: wrong PINs before a lock
    pin_lock_s: int = 300                 # ANTRIAN_PIN_LOCK_SECONDS: how long the lock lasts
    fanout_fast: bool = True              # ANTRIAN_FANOUT_FAST: 1 encodes each event's frame
                                          # once and writes it to screens' transports; 0 the
                                          # ordinary per-screen send path
    fanout_buffer_bytes: int = 1024 * 1024  # ANTRIAN_FANOUT_BUFFER_BYTES: a fast-path screen's
                                          # unsent bytes before it is dropped

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, kiosk: Kiosk = Kiosk()) -> Settings:
        """The settings of the environment (os.environ by default) over the site's `[kiosk]`;
        SettingsError on a bad one."""
        source = os.environ if env is None else env
        d = cls()

        def get(name: str, parse: Callable[[str], T], default: T) -> T:
            raw = source.get(name, "").strip()
            if not raw:
                return default
            try:
                return parse(raw)
            except ValueError as exc:
                raise SettingsError(f"{name}={raw!r}: {exc}") from None

        return cls(
            stream_maxlen=get("ANTRIAN_STREAM_MAXLEN", _int(1, 10**8), d.stream_maxlen),
            heartbeat_s=get("ANTRIAN_HEARTBEAT_SECONDS", _float(0.01, 300), d.heartbeat_s),
            redis_pool_size=get("ANTRIAN_REDIS_POOL_SIZE", _int(4, 10_000), d.redis_pool_size),
            redis_pool_timeout_s=get("ANTRIAN_REDIS_POOL_TIMEOUT", _float(0.1, 120),
                                     d.redis_pool_timeout_s),
            ticket_rate=get("ANTRIAN_TICKET_RATE", Rate.parse, d.ticket_rate),
            kiosk_rate=get("ANTRIAN_KIOSK_RATE", Rate.parse, kiosk.rate or d.kiosk_rate),
            trusted_proxies=get("ANTRIAN_TRUSTED_PROXIES", _addresses, d.trusted_proxies),
            public_url=get("ANTRIAN_PUBLIC_URL", parse_url, kiosk.public_url),
            printer=get("ANTRIAN_KIOSK_PRINTER", parse_printer, kiosk.printer),
            max_connections=get("ANTRIAN_MAX_CONNECTIONS", _int(16, 1_000_000),
                                d.max_connections),
            max_connections_per_client=get("ANTRIAN_MAX_CONNECTIONS_PER_CLIENT",
                                           _int(1, 1_000_000), d.max_connections_per_client),
            request_timeout_s=get("ANTRIAN_REQUEST_TIMEOUT", _float(0.1, 300),
                                  d.request_timeout_s),
            keep_alive_s=get("ANTRIAN_KEEP_ALIVE", _float(0.1, 300), d.keep_alive_s),
            max_header_bytes=get("ANTRIAN_MAX_HEADER_BYTES", _int(1024, 1024 * 1024),
                                 d.max_header_bytes),
            max_screens=get("ANTRIAN_MAX_SCREENS", _int(1, 100_000), d.max_screens),
            survey_rate=get("ANTRIAN_SURVEY_RATE", Rate.parse, d.survey_rate),
            survey_minutes=get("ANTRIAN_SURVEY_MINUTES", _int(1, 1440), d.survey_minutes),
            pin_attempts=get("ANTRIAN_PIN_ATTEMPTS", _int(1, 100), d.pin_attempts),
            pin_lock_s=get("ANTRIAN_PIN_LOCK_SECONDS", _int(1, 86_400), d.pin_lock_s),
            fanout_fast=get("ANTRIAN_FANOUT_FAST", _int(0, 1), int(d.fanout_fast)) == 1,
            fanout_buffer_bytes=get("ANTRIAN_FANOUT_BUFFER_BYTES", _int(4096, 1 << 30),
                                    d.fanout_buffer_bytes),
        )


def _int(lo: int, hi: int) -> Callable[[str], int]:
    return _bounded(int, re.compile(r"[0-9]{1,9}"), t("settings.whole_number"), lo, hi)


def _float(lo: float, hi: float) -> Callable[[str], float]:
    return _bounded(float, re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?"), t("settings.number"),
                    lo, hi)


def _bounded(kind: Callable[[str], N], pattern: re.Pattern[str], what: str,
             lo: float, hi: float) -> Callable[[str], N]:
    """A parser of ASCII-digit numbers within lo..hi (str.isdigit() would also take "²")."""

    def parse(text: str) -> N:
        if not pattern.fullmatch(text):
            raise ValueError(what)
        value = kind(text)
        if not lo <= value <= hi:
            raise ValueError(t("settings.range", lo=lo, hi=hi))
        return value

    return parse


def _addresses(text: str) -> tuple[str, ...]:
    items = tuple(part.strip() for part in text.split(",") if part.strip())
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(t("settings.address", address=item)) from None
    return items


def parse_url(text: str) -> str:
    """A public base URL, without its trailing slash."""
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", text):
        raise ValueError(t("settings.url"))
    return text.rstrip("/")


def parse_printer(text: str) -> str:
    """An ESC/POS printer: a device file or a network printer's raw port."""
    if not PRINTER.fullmatch(text):
        raise ValueError(t("settings.printer"))
    return text
