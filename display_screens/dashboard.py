"""The office dashboard (/admin, behind the office session): today's top-line figures and live
counter status (also as the fragment /admin/langsung that the page reloads on every event), one
row per tenant opening into its services, the screens' sound, charts and counter productivity
of a date range and the report downloads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from display_screens import charts, complaints_pages, console_auth, downloads, skm_page
from display_screens.pages import SECURITY_HEADERS, error_page, render, sign_in_page
from display_server import api
from display_server.archive_charts import heat, per_day, wait_bins
from display_server.errors import ApiError
from display_server.report import summarize
from display_server.reporting.formats import SHEETS
from display_server.reporting.productivity import MIN_OPEN_S, productivity_report
from display_server.screens import known_screens
from display_server.state import snapshot_view
from display_server.visits import today_figures
from protocol.event_ids import event_key
from texts import N_, number, t

ADMIN_COLUMNS = ("issued", "called", "served", "completed", "no_show")
SILENT_AFTER_MS = 60_000
CHARTS = {"per_day": N_("admin.chart.per_day"), "waits": N_("admin.chart.waits"),
          "heat": N_("admin.chart.heat")}
Handler = Callable[[Request], Awaitable[Response]]


def _signed_in(handler: Handler) -> Handler:
    """Only for the office's session (else its sign-in form, or a 401 page for a download);
    a bad parameter is the Indonesian error page."""
    async def endpoint(request: Request) -> Response:
        if await console_auth.session(request, console_auth.ADMIN) is None:
            if request.url.path == "/admin":
                return sign_in_page(request, {
                    "title": t("admin.title"), "heading": t("admin.office"),
                    "action": "/admin/login", "intro": t("admin.login_intro"),
                    "label": t("admin.token"), "bad_token": t("admin.bad_token")})
            return error_page(request, ApiError("unauthorized", t("error.detail.office_token")))
        try:
            return await handler(request)
        except ApiError as exc:
            return error_page(request, exc)
    return endpoint


async def _live(request: Request) -> dict[str, Any]:
    """Today's figures, the services' counts grouped by tenant, and each counter's status."""
    c = api.ctx(request)
    snap = snapshot_view(c.site, c.clock, await c.store.snapshot())
    counts = summarize(await c.store.stats(snap["day"]), [s["code"] for s in snap["services"]])
    rows = [{"code": s["code"], "name": s["name"], "tenant": s["tenant"],
             "waiting": s["waiting"], **row}
            for s, row in zip(snap["services"], counts, strict=True)]
    tenants = []
    for tenant in c.site.tenants:
        services = [r for r in rows if r["tenant"] == tenant.id]
        if services:
            tenants.append({"id": tenant.id, "name": tenant.name, "services": services,
                            **{k: sum(r[k] for r in services) for k in (*ADMIN_COLUMNS,
                                                                         "waiting")}})
    now_ms = int(c.clock().timestamp() * 1000)
    counters = [{**entry, "minutes": max(0, (now_ms - entry["since"]) // 60000)
                 if entry.get("since") else None} for entry in snap["counters"]]
    figures = await today_figures(c.store, sum(s["waiting"] for s in snap["services"]))
    return {"figures": figures, "tenants": tenants, "counters": counters,
            "latest": snap["recent"][0] if snap["recent"] else None}


async def admin(request: Request) -> Response:
    """GET /admin[?dari=&sampai=]: the dashboard; the charts cover the range (default the 30
    days up to today)."""
    c = api.ctx(request)
    signed_in = await console_auth.session(request, console_auth.ADMIN)
    assert signed_in is not None
    span = downloads.parse_range(request.query_params, date.fromisoformat(c.store.today()))
    live = await _live(request)
    screens = [{**known, "status": _sound_status(known["played"], live["latest"])}
               for known in await known_screens(c)]
    return render(request, "admin.html", {
        **live, "screens": screens, "csrf": signed_in.csrf, "span": span,
        "groupings": {k: t(v) for k, v in SHEETS.items()},
        "alarm": c.archiver.state.alarm if c.archiver else None,
        "complaints_overdue": await complaints_pages.overdue_count(request),
        "skm": await skm_page.dashboard_index(request, span),
        "charts": {name: t(label) for name, label in CHARTS.items()} if c.archiver else None})


async def live_part(request: Request) -> Response:
    """GET /admin/langsung: the figures and counters, as the page shows them (its script swaps
    them in on every event)."""
    return render(request, "admin_live.html", await _live(request))


def _draw(request: Request, name: str, span: downloads.DateRange) -> str:
    """One chart of the range, from the archive."""
    c = api.ctx(request)
    label = t(CHARTS[name])
    with downloads.archive(request).connect() as connection:
        if name == "per_day":
            counts = per_day(connection, c.site.id, span.first, span.last)
            return charts.bars([(f"{day.day}", day.isoformat(), counts.get(day.isoformat(), 0))
                                for day in span.days()], label)
        if name == "waits":
            return charts.wait_histogram(wait_bins(connection, c.site.id, span.first,
                                                   span.last), label)
        return charts.heat_map(heat(connection, c.site.id, c.site.tz, span.first, span.last),
                               label)


async def chart(request: Request) -> Response:
    """GET /admin/grafik/{per_day|waits|heat}.svg?dari=&sampai=: one chart as an SVG image (the
    page paints first, each chart's query runs while the browser fetches it)."""
    name = request.path_params["name"]
    if name not in CHARTS:
        raise ApiError("not_found", name[:40])
    c = api.ctx(request)
    span = downloads.parse_range(request.query_params, date.fromisoformat(c.store.today()))
    svg = await asyncio.to_thread(_draw, request, name, span)
    return Response(svg, media_type="image/svg+xml", headers=SECURITY_HEADERS)


def _productivity(request: Request, span: downloads.DateRange) -> dict[str, Any]:
    with downloads.archive(request).connect() as connection:
        return productivity_report(connection, api.ctx(request).site, span.first, span.last)


def open_time(seconds: int) -> str:
    """A counter's open time in hours and minutes: '1 jam 40 menit', '55 menit', '2 jam',
    'kurang dari 1 menit' (minutes rounded down, as the report's seconds are)."""
    hours, minutes = divmod(seconds // 60, 60)
    if hours and minutes:
        return t("admin.productivity.hours_minutes", h=number(hours), m=minutes)
    if hours:
        return t("admin.productivity.hours", h=number(hours))
    if minutes or not seconds:
        return t("admin.productivity.minutes", m=minutes)
    return t("admin.productivity.under_minute")


async def productivity_part(request: Request) -> Response:
    """GET /admin/produktivitas?dari=&sampai=: the counters' productivity of the range as a
    table (admin.js loads it into the page after it painted)."""
    c = api.ctx(request)
    span = downloads.parse_range(request.query_params, date.fromisoformat(c.store.today()))
    report = await asyncio.to_thread(_productivity, request, span)
    return render(request, "admin_productivity.html", {
        "report": report, "open_time": open_time, "min_open_minutes": MIN_OPEN_S // 60})


def _sound_status(ack: dict[str, Any] | None, latest: dict[str, Any] | None) -> str:
    """A screen's sound today: "none" when it played nothing, "behind" when the last call it
    handled (played, or dropped unspoken because its counter had moved on) is a minute older
    than the last call (event ids start with their time in ms), else "ok"."""
    if ack is None or "event_id" not in ack:
        return "none"
    handled = max(event_key(ack[k])[0] for k in ("event_id", "dropped_id") if k in ack)
    if latest is not None and event_key(latest["event_id"])[0] - handled > SILENT_AFTER_MS:
        return "behind"
    return "ok"


routes: list[BaseRoute] = [
    Route("/admin", _signed_in(admin)),
    Route("/admin/langsung", _signed_in(live_part)),
    Route("/admin/grafik/{name}.svg", _signed_in(chart)),
    Route("/admin/produktivitas", _signed_in(productivity_part)),
    Route("/admin/laporan.csv", _signed_in(downloads.report_csv)),
    Route("/admin/laporan.xlsx", _signed_in(downloads.report_xlsx)),
    *skm_page.routes,
]
