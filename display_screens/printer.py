"""Direct ticket printing on an ESC/POS thermal printer (58/80 mm), when the kiosk's server has
one: a device file (/dev/usb/lp0) or a network printer's raw port (tcp://192.168.1.50:9100).

python-escpos encodes the ticket (sizes, alignment, the printer's own QR code, the cut); this
module only lays it out and sends the bytes.
"""

from __future__ import annotations

import socket
import unicodedata
from typing import Any

from texts import t

TIMEOUT_S = 3.0


class PrintError(Exception):
    """The printer could not be reached or refused the ticket; the message says why."""


def _text(value: str) -> str:
    """ASCII for any printer's code page: accents dropped, dashes and ± spelled plainly."""
    plain = value.replace("–", "-").replace("—", "-").replace("±", "+/-").replace("…", "...")
    return unicodedata.normalize("NFKD", plain).encode("ascii", "ignore").decode()


def ticket_bytes(site_name: str, ticket: dict[str, Any], lines: list[str]) -> bytes:
    """One ticket: site, the code in huge type, the service, `lines` (people ahead, estimate,
    time), the QR code of its status page, then a cut. PrintError when python-escpos (the
    `printer` extra) is not installed."""
    try:
        from escpos.printer import Dummy  # type: ignore[import-untyped]
    except ModuleNotFoundError as exc:
        raise PrintError(t("printer.not_installed")) from exc
    p = Dummy()
    p.hw("INIT")
    p.set(align="center")
    p.text(_text(site_name) + "\n")
    p.set(align="center", bold=True, double_height=True, double_width=True)
    p.text("NOMOR ANTRIAN\n")
    p.set(align="center", bold=True, custom_size=True, width=5, height=5)
    p.text(_text(ticket["code"]) + "\n")
    p.set_with_default(align="center", bold=True)
    p.text(_text(ticket["service_name"]) + "\n\n")
    p.set_with_default(align="center")
    for line in lines:
        p.text(_text(line) + "\n")
    p.qr(ticket["status_url"], native=True, size=6, center=False)
    p.cut()
    output: bytes = p.output
    return output


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
