"""The app as uvicorn loads it in every worker process, configured from the environment."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from display_screens import pages
from display_server.app import create_app
from display_server.config import load_config
from display_server.paths import data_dir
from display_server.redis_local import default_url


def create_from_env() -> Starlette:
    """Build the app from ANTRIAN_CONFIG, ANTRIAN_REDIS_URL and ANTRIAN_DATA_DIR (and the
    tuning knobs ANTRIAN_STREAM_MAXLEN, ANTRIAN_HEARTBEAT_SECONDS)."""
    site = load_config(None)
    directory = data_dir(None)
    maxlen = os.environ.get("ANTRIAN_STREAM_MAXLEN")
    return create_app(
        site,
        default_url(None, directory),
        directory,
        extra_routes=pages.routes,
        heartbeat_s=float(os.environ.get("ANTRIAN_HEARTBEAT_SECONDS") or 10),
        stream_maxlen=int(maxlen) if maxlen else None,
    )
