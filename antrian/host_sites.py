"""Several sites served by one set of processes: the request's Host header chooses the site's
app (each one built by `antrian.main.build_app`); the lifespan starts and stops every site."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from display_server.config import ConfigError, SiteConfig
from display_server.errors import ApiError
from texts import t

log = logging.getLogger("antrian.host_sites")


def check_sites(sites: Sequence[SiteConfig]) -> None:
    """Several sites in one process: each names its hosts, no site id or host twice
    (ConfigError, in the catalogue's words)."""
    ids: dict[str, str] = {}
    hosts: dict[str, str] = {}
    for site in sites:
        if not site.hosts:
            problem = t("config.hosts_required")
            raise ConfigError(f"{site.source}: site.hosts: {problem}")
        if site.id in ids:
            problem = t("config.site_twice", site=site.id, other=ids[site.id])
            raise ConfigError(f"{site.source}: site.id: {problem}")
        ids[site.id] = site.source
        for host in site.hosts:
            if host in hosts:
                problem = t("config.host_twice", host=host, other=hosts[host])
                raise ConfigError(f"{site.source}: site.hosts: {problem}")
            hosts[host] = site.source


CONFIGS_ENV = "ANTRIAN_CONFIGS"  # the site configs of a many-site serve, os.pathsep between


def config_paths() -> list[str]:
    """The configs of ANTRIAN_CONFIGS (empty when one site, or the demo, is served)."""
    return [p for p in os.environ.get(CONFIGS_ENV, "").split(os.pathsep) if p]


def site_data_dir(directory: Path, site: SiteConfig) -> Path:
    """A site's own data dir under the shared one (its secret, archive, audio cache)."""
    path = directory / site.id
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def start_lines(sites: Sequence[SiteConfig], dirs: Sequence[Path], port: int) -> str:
    """What `antrian serve` prints before it listens when it serves several sites."""
    lines = [t("serve.sites_ready", count=len(sites))]
    for site, own in zip(sites, dirs, strict=True):
        lines.append(t("serve.site_hosts", site=site.name,
                       urls=", ".join(f"http://{host}:{port}/" for host in site.hosts),
                       data_dir=own))
    lines.append(t("serve.stop"))
    return "\n".join(lines)


def host_of(scope: Scope) -> str:
    """The Host header's name: lowercase, without the port or a trailing dot."""
    raw = ""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            raw = value.decode("latin-1").strip().lower()
            break
    if raw.startswith("["):  # an IPv6 literal, [::1]:8000
        return raw[1:raw.find("]")] if "]" in raw else raw
    return raw.rsplit(":", 1)[0].rstrip(".") if raw.count(":") == 1 else raw.rstrip(".")


class HostSites:
    """The ASGI app of several sites: http and websocket scopes go to the app of the Host's
    site (an unknown host: 404 with the contract's body, a WebSocket closed); the lifespan
    starts every site's app, and fails the start when one fails."""

    def __init__(self, apps: Sequence[tuple[SiteConfig, Starlette]]) -> None:
        self.apps = [app for _, app in apps]
        self.by_host = {host: app for site, app in apps for host in site.hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app = self.by_host.get(host_of(scope))
        if app is not None:
            await app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await ApiError("not_found").response()(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        stack = contextlib.AsyncExitStack()
        try:
            for app in self.apps:
                await stack.enter_async_context(app.router.lifespan_context(app))
        except Exception as exc:
            log.exception("a site failed to start")
            with contextlib.suppress(Exception):
                await stack.aclose()  # the sites started already stop again
            await send({"type": "lifespan.startup.failed", "message": repr(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        assert message["type"] == "lifespan.shutdown"
        try:
            await stack.aclose()
        except Exception as exc:
            log.exception("a site failed to stop cleanly")
            await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
            return
        await send({"type": "lifespan.shutdown.complete"})
