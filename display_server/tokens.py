"""Bearer tokens (an HMAC of the site secret and the counter number) and the unguessable keys of
the tickets' status links."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

SECRET_FILE = "secret"


def load_secret(data_dir: Path, configured: str | None = None) -> bytes:
    """The site secret: from the config if set, else `data_dir/secret`, generated on first use
    (readable by its owner only)."""
    if configured:
        return configured.encode()
    path = data_dir / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text("ascii").strip()
        if not secret:
            raise ValueError(f"{path} is empty: delete it to generate a new secret") from None
        return secret.encode()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_text("ascii").strip().encode()


def read_secret(data_dir: Path, configured: str | None = None) -> bytes | None:
    """The site secret as `load_secret` finds it, but never generated: None when the config
    sets none and `data_dir` has no secret file (a client of a server whose data dir this is
    not, such as `antrian demo`, must not create a second secret)."""
    if configured:
        return configured.encode()
    try:
        secret = (data_dir / SECRET_FILE).read_text("ascii").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return secret.encode() or None


def counter_token(secret: bytes, site_id: str, counter: int) -> str:
    """The bearer token of `counter`: stable for a secret, different for every counter and site."""
    message = f"antrian:{site_id}:counter:{counter}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:40]


def admin_token(secret: bytes, site_id: str) -> str:
    """The token of the MPP office's /admin page: never equal to a counter's."""
    message = f"antrian:{site_id}:admin".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:40]


def kiosk_token(secret: bytes, site_id: str) -> str:
    """The token of the kiosks and integrations (ticket issue without the per-client limit):
    never equal to a counter's or the office's."""
    message = f"antrian:{site_id}:kiosk".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:40]


TICKET_KEY_CHARS = 24  # hex digits: 96 bits


def ticket_key(secret: bytes, site_id: str, day: str, code: str) -> str:
    """The unguessable part of a ticket's status link: an HMAC of the site, day and code."""
    message = f"antrian:{site_id}:ticket:{day}:{code}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:TICKET_KEY_CHARS]


def same(presented: str, expected: str) -> bool:
    """Constant-time equality of two texts of any characters (`hmac.compare_digest` raises
    TypeError on non-ASCII str, so the bytes are compared)."""
    return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"),
                               expected.encode("utf-8", "surrogatepass"))


class TokenBook:
    """Maps presented tokens to counters, comparing in constant time."""

    def __init__(self, secret: bytes, site_id: str, counters: list[int]) -> None:
        self._secret = secret
        self._site_id = site_id
        self._tokens = {n: counter_token(secret, site_id, n) for n in counters}
        self._admin = admin_token(secret, site_id)
        self._kiosk = kiosk_token(secret, site_id)

    def admin_token(self) -> str:
        """The office's token, for /admin."""
        return self._admin

    def token(self, counter: int) -> str:
        return self._tokens[counter]

    def owner(self, presented: str) -> int | None:
        """The counter this token belongs to, or None."""
        found = None
        for n, token in self._tokens.items():
            if hmac.compare_digest(token.encode(), presented.encode()):
                found = n
        return found

    def is_kiosk(self, presented: str) -> bool:
        """Whether `presented` is the kiosk token (constant time)."""
        return same(presented, self._kiosk)

    def signing_key(self, purpose: str) -> bytes:
        """A key for `purpose` (e.g. signing console cookies), derived from the site secret and
        the site id: the same in every worker process, never equal to a token, and another
        site's even when two sites share a secret (one process per site on one Redis)."""
        message = f"antrian:{self._site_id}:key:{purpose}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def ticket_key(self, day: str, code: str) -> str:
        """The key of a ticket's status link."""
        return ticket_key(self._secret, self._site_id, day, code)

    def ticket_key_ok(self, day: str, code: str, presented: str) -> bool:
        """Whether `presented` is the key of this ticket's link (constant time)."""
        return same(presented, self.ticket_key(day, code))
