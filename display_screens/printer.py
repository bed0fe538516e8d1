"""Direct ticket printing on an ESC/POS thermal printer (58/80 mm), when the kiosk's server has
one: a device file (/dev/usb/lp0) or a network printer's raw port (tcp://192.168.1.50:9100).

The bytes are plain ESC/POS (init, alignment, character size, the QR code with GS ( k, feed
and cut), which every common thermal printer understands; no driver or library is needed.
"""

from __future__ import annotations

import os
import socket
import unicodedata
from typing import Any

PRINTER_ENV = "ANTRIAN_KIOSK_PRINTER"
TIMEOUT_S = 3.0

INIT = b"\x1b@"
CENTER = b"\x1ba\x01"
BOLD_ON, BOLD_OFF = b"\x1bE\x01", b"\x1bE\x00"
NORMAL, DOUBLE, HUGE = b"\x1d!\x00", b"\x1d!\x11", b"\x1d!\x44"
FEED_CUT = b"\x1bd\x04\x1dV\x01"


class PrintError(Exception):
    """The printer could not be reached or refused the ticket; the message says why."""


def configured() -> str | None:
    """Where tickets are printed (ANTRIAN_KIOSK_PRINTER), or None: the kiosk browser prints."""
    return os.environ.get(PRINTER_ENV) or None


def _text(value: str) -> bytes:
    """ASCII for the printer's code page: accents dropped, dashes and ± spelled plainly."""
    plain = value.replace("–", "-").replace("—", "-").replace("±", "+/-").replace("…", "...")
    return unicodedata.normalize("NFKD", plain).encode("ascii", "ignore")


def _qr(data: str) -> bytes:
    payload = data.encode("ascii", "ignore")
    size = len(payload) + 3
    return (b"\x1d(k\x04\x00\x31\x41\x32\x00"  # model 2
            b"\x1d(k\x03\x00\x31\x43\x06"  # module size 6
            b"\x1d(k\x03\x00\x31\x45\x31"  # error correction M
            + b"\x1d(k" + bytes([size % 256, size // 256]) + b"\x31\x50\x30" + payload
            + b"\x1d(k\x03\x00\x31\x51\x30")  # print it


def ticket_bytes(site_name: str, ticket: dict[str, Any], lines: list[str]) -> bytes:
    """One ticket: site, the code in huge type, the service, `lines` (people ahead, estimate,
    time), the QR code of its status page."""
    out = [INIT, CENTER, _text(site_name), b"\n", BOLD_ON, DOUBLE, b"NOMOR ANTRIAN\n",
           HUGE, _text(ticket["code"]), b"\n", DOUBLE, BOLD_OFF, NORMAL,
           _text(ticket["service_name"]), b"\n\n"]
    out += [_text(line) + b"\n" for line in lines]
    out += [b"\n", _qr(ticket["status_url"]), b"\n", FEED_CUT]
    return b"".join(out)


def send(target: str, data: bytes) -> None:
    """Write the bytes to the printer; PrintError when it cannot be done."""
    try:
        if target.startswith("tcp://"):
            host, _, port = target[6:].rpartition(":")
            with socket.create_connection((host, int(port)), timeout=TIMEOUT_S) as conn:
                conn.sendall(data)
        else:
            with open(target, "ab", buffering=0) as device:
                device.write(data)
    except (OSError, ValueError) as exc:
        raise PrintError(str(exc)) from exc
