"""Where antrian keeps its files: the data dir (secret, local Redis, audio cache)."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir(explicit: str | None = None, *, create: bool = True) -> Path:
    """The data dir: the argument, ANTRIAN_DATA_DIR, or ~/.local/share/antrian; created 0700
    unless `create` is false (a command that only reads the server's files)."""
    chosen = explicit or os.environ.get("ANTRIAN_DATA_DIR")
    if chosen:
        path = Path(chosen)
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(base) / "antrian"
    if create:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
