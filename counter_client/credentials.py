"""The counter's bearer token: from --token, a file readable by its owner only, or ANTRIAN_TOKEN."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from texts import t

ENV_VAR = "ANTRIAN_TOKEN"


class TokenError(ValueError):
    """No usable token; the message (Indonesian) says what to do."""


def read_token_file(path: Path) -> str:
    """The token in `path`, refused when anyone but its owner (this user) may read or change it."""
    try:
        info = path.stat()
        if info.st_uid != os.getuid():
            raise TokenError(t("terminal.token_file_owner", path=path))
        if info.st_mode & 0o077:
            mode = stat.filemode(info.st_mode)
            raise TokenError(t("terminal.token_file_perms", path=path, mode=mode))
        token = path.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise TokenError(t("terminal.token_file_open", path=path, reason=reason)) from None
    if not token:
        raise TokenError(t("terminal.token_file_empty", path=path))
    return token


def resolve_token(flag: str | None, file: str | None, env: Mapping[str, str] = os.environ) -> str:
    """The first of: the --token flag, the --token-file, the ANTRIAN_TOKEN variable."""
    if flag and flag.strip():
        return flag.strip()
    if file:
        return read_token_file(Path(file))
    from_env = env.get(ENV_VAR, "").strip()
    if from_env:
        return from_env
    raise TokenError(t("terminal.token_missing"))
