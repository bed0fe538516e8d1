"""GET /: the landing page of a site, linking every page the app serves (only routes that exist
when it is rendered, so it never links a 404) and explaining how officers and the office sign in."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from display_screens.pages import render
from display_server import api
from texts import N_

# (path, text key, what the path's {n} is): the pages the landing page may link, in its order.
# A page is linked only when the app has a route of exactly that path.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("/display", N_("home.page.display"), ""),
    ("/kiosk", N_("home.page.kiosk"), ""),
    ("/counter/{n}", N_("home.page.counter"), "counter"),
    ("/admin", N_("home.page.admin"), ""),
    ("/pengaduan", N_("home.page.complaints"), ""),
    ("/rating/{n}", N_("home.page.rating"), "counter"),
    ("/admin/skm", N_("home.page.admin_skm"), ""),
    ("/admin/pengaduan", N_("home.page.admin_complaints"), ""),
    ("/admin/petugas", N_("home.page.admin_officers"), ""),
    ("/admin/suara", N_("home.page.admin_voice"), ""),
    ("/admin/pengaturan", N_("home.page.admin_settings"), ""),
    ("/admin/rekap", N_("home.page.admin_recap"), ""),
)


def route_paths(routes: Iterable[BaseRoute]) -> set[str]:
    """The path templates of the app's GET routes (e.g. "/counter/{n}")."""
    return {route.path for route in routes
            if isinstance(route, Route) and (route.methods is None or "GET" in route.methods)}


def links(request: Request) -> list[dict[str, Any]]:
    """The landing page's sections: a page's link, or one link per counter for a page per
    counter; only pages the app serves."""
    c = api.ctx(request)
    served = route_paths(request.app.routes)
    sections: list[dict[str, Any]] = []
    for path, key, each in PAGES:
        if path not in served:
            continue
        section: dict[str, Any] = {"key": key, "href": path, "items": []}
        if each == "counter":
            section["href"] = ""
            section["items"] = [{"href": path.replace("{n}", str(counter.number)),
                                 "label": str(counter.number), "title": counter.name}
                                for counter in c.site.counters]
        elif path == "/display":
            section["items"] = [{"href": f"/display?profile={screen.id}", "label": screen.name,
                                 "title": screen.name} for screen in c.site.screens]
        sections.append(section)
    return sections


async def home(request: Request) -> Response:
    """GET /: every page of the site, with how to sign in."""
    c = api.ctx(request)
    served = route_paths(request.app.routes)
    first = c.site.counters[0].number if c.site.counters else 1
    return render(request, "home.html", {
        "sections": links(request),
        "first_counter": first,
        "officers": "/admin/petugas" in served,
        "tenant": c.site.tenants[0].id if c.site.tenants else "",
        "server": str(request.base_url).rstrip("/"),
    })


routes: list[BaseRoute] = [Route("/", home)]
