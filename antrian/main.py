"""The app as uvicorn loads it in every worker process, configured from the environment."""

from __future__ import annotations

from starlette.applications import Starlette

from display_screens import pages
from display_server.app import create_app
from display_server.config import load_config
from display_server.paths import data_dir
from display_server.redis_local import default_url
from display_server.settings import Settings


def create_from_env() -> Starlette:
    """Build the app from ANTRIAN_CONFIG, ANTRIAN_REDIS_URL, ANTRIAN_DATA_DIR and the settings
    of `Settings.from_env`."""
    site = load_config(None)
    directory = data_dir(None)
    return create_app(site, default_url(None, directory), directory, extra_routes=pages.routes,
                      settings=Settings.from_env())
