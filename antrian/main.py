"""The app assembly: the server's core with the pages and the call audio mounted; `create_from_env`
is what uvicorn loads in every worker process."""

from __future__ import annotations

import gc
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request

from antrian import host_sites
from antrian.host_sites import HostSites
from antrian.voice_studio import VoiceStudio
from audio.route import CallAudio
from display_screens import (
    complaints_pages,
    console_auth,
    dashboard,
    landing,
    officer_admin,
    pages,
    rating,
    recap,
    settings_admin,
)
from display_server.app import create_app
from display_server.archive.db import database_url
from display_server.clock import Clock, system_clock
from display_server.config import SiteConfig, load_config
from display_server.paths import data_dir
from display_server.redis_local import default_url
from display_server.settings import Settings


def build_app(site: SiteConfig, redis_url: str, directory: Path, *,
              clock: Clock = system_clock, settings: Settings | None = None,
              database_url: str | None = None) -> Starlette:
    """The whole app of one site: API, WebSocket, pages and call audio; with `database_url`
    (migrated), the archiver too."""
    audio = CallAudio()
    studio = VoiceStudio()
    app = create_app(site, redis_url, directory, clock=clock, settings=settings,
                      database_url=database_url,
                      extra_routes=[*landing.routes, *pages.routes, *dashboard.routes,
                                    *recap.routes, *rating.routes, *complaints_pages.routes,
                                    *officer_admin.routes, *settings_admin.routes,
                                    *audio.routes, *studio.routes],
                      on_close=[audio.close, studio.close])
    app.state.error_page = pages.error_page  # a browser's mistyped address: the page, not JSON
    app.state.office_session = office_session  # GET /metrics opens to a live /admin session
    app.state.office_csrf = office_csrf  # /api/settings: the /admin session, CSRF on a change
    return app


async def office_session(request: Request) -> bool:
    """Whether the request carries a live /admin session (for GET /metrics)."""
    return await console_auth.session(request, console_auth.ADMIN) is not None


async def office_csrf(request: Request, changing: bool) -> bool:
    """Whether the request carries a live /admin session; for a change, also its CSRF token
    in `X-CSRF-Token` (403 without)."""
    if not changing:
        return await office_session(request)
    if await console_auth.session(request, console_auth.ADMIN) is None:
        return False
    await console_auth.require(request, console_auth.ADMIN,
                               request.headers.get("x-csrf-token", ""))
    return True


def create_from_env() -> Starlette | HostSites:
    """Build the app from ANTRIAN_CONFIG, ANTRIAN_REDIS_URL, ANTRIAN_DATA_DIR,
    ANTRIAN_DATABASE_URL (the archive, which `antrian serve` migrated) and the settings of
    `Settings.from_env` over the site's `[kiosk]`. With ANTRIAN_CONFIGS (several sites), one
    app per site, each with its own data dir under ANTRIAN_DATA_DIR, chosen by Host."""
    directory = data_dir(None)
    paths = host_sites.config_paths()
    if paths:
        sites = [load_config(path) for path in paths]
        host_sites.check_sites(sites)
        url = default_url(None, directory)
        apps = []
        for one in sites:
            own = host_sites.site_data_dir(directory, one)
            apps.append((one, build_app(one, url, own,
                                        settings=Settings.from_env(kiosk=one.kiosk),
                                        database_url=database_url(own))))
        freeze_start_up()
        return HostSites(apps)
    site = load_config(None)
    app = build_app(site, default_url(None, directory), directory,
                    settings=Settings.from_env(kiosk=site.kiosk),
                    database_url=database_url(directory))
    freeze_start_up()
    return app


def freeze_start_up() -> None:
    """Take what start-up made (the modules, the config, the app: ~170,000 objects) out of the
    garbage collector's view, after collecting its garbage: a full collection, which pauses
    everything the process does (a fan-out to the screens too), then walks only what serving
    added. Measured: a full collection of a started app took 100-130 ms, 0.0 ms once frozen."""
    gc.collect()
    gc.freeze()
