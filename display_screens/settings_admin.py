"""The office's live settings on `/admin/pengaturan` (behind the office session): the running
text, the TV's notices with their dates, holidays, each service's days, hours and quota, each
counter's services in order. Each form carries the session's CSRF token and is one change of
display_server.live_config (checked as the TOML is, stored with its history, applied at once in
every process); a bad one shows the page again with the field named (400)."""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from display_screens import console_auth
from display_screens.pages import error_page, render
from display_server import api, live_config
from display_server.errors import ApiError
from display_server.hours import canonical, written
from texts import t

PAGE = "/admin/pengaturan"
PARTS = ("teks", "pengumuman", "libur", "jam", "penugasan")  # one form each; the last: counters
MAX_FIELDS = 2000
NOTICE_ROWS_EXTRA = 3  # empty rows to add notices with


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _items(text: str) -> list[str]:
    return [item.strip() for item in re.split(r"[,\s]+", text) if item.strip()]


def hours_text(hours: Any) -> str:
    """A service's `hours` as the form shows it, times written as on the rest of the page
    (hours.written): `08.00–12.00, 13.00–15.00`, or per day `senin=08.00–12.00;
    jumat=08.00–11.00`."""
    if hours is None:
        return ""
    if isinstance(hours, str):
        return written(hours)
    if isinstance(hours, list):
        return ", ".join(written(str(h)) for h in hours)
    if isinstance(hours, dict):
        return "; ".join(f"{day}={hours_text(value)}" for day, value in hours.items())
    return str(hours)


def parse_hours_text(text: str) -> Any:
    """The form's hours back into the TOML's form, each range as '08:00-12:00' whether typed
    '08.00-12.00', '08.00–12.00' or '08:00 - 12:00' (None when empty: always open)."""
    text = re.sub(r"\s*([-–—])\s*", r"\1", text.strip())
    if not text:
        return None
    if "=" in text:
        table: dict[str, Any] = {}
        for part in text.split(";"):
            day, _, ranges = part.partition("=")
            if day.strip():
                table[day.strip().lower()] = ([canonical(r) for r in _items(ranges)]
                                              if "," in ranges else canonical(ranges.strip()))
        return table
    found = [canonical(r) for r in _items(text)]
    return found[0] if len(found) == 1 else found


def _quota(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text  # the check names services[i].quota with its type


def describe(change: dict[str, Any]) -> str:
    """A change in words: the parts it touched (the history's table)."""
    parts = {("site", "running_text"): t("settings.page.running_text"),
             ("site", "holidays"): t("settings.page.holidays"),
             ("signage", "texts"): t("settings.page.notices")}
    out: list[str] = []
    for section, rows in change.items():
        if section == "services":
            out.append(t("settings.page.services") + " " + ", ".join(sorted(rows)))
        elif section == "counters":
            out.append(t("settings.page.counters") + " " + ", ".join(sorted(rows, key=int)))
        else:
            out += [parts.get((section, key), key) for key in rows]
    return "; ".join(out) or "–"


def _change(part: str, form: FormData, current: dict[str, Any]) -> dict[str, Any]:
    """The change a form stands for: only what differs from the effective settings."""
    def get(key: str) -> str:
        return str(form.get(key, ""))[:4000]

    if part == "teks":
        return {"site": {"running_text": _lines(get("running_text"))}}
    if part == "libur":
        return {"site": {"holidays": _items(get("holidays"))}}
    if part == "pengumuman":
        notices = []
        for i in range(len(current["notices"]) + NOTICE_ROWS_EXTRA):
            text = get(f"text-{i}").strip()
            if not text or get(f"remove-{i}"):
                continue
            row = {"text": text}
            for key in ("start", "end"):
                if get(f"{key}-{i}").strip():
                    row[key] = get(f"{key}-{i}").strip()
            notices.append(row)
        return {"signage": {"texts": notices}}
    if part == "jam":
        services: dict[str, Any] = {}
        for s in current["services"]:
            code = s["code"]
            days: Any = [int(d) if d.isdigit() else d
                         for d in _items(get(f"days-{code}").lower())] or None
            row = {"days": days, "hours": parse_hours_text(get(f"hours-{code}")),
                   "quota": _quota(get(f"quota-{code}"))}
            was = {"days": s["days"], "hours": s["hours"], "quota": s["quota"]}
            changed = {k: v for k, v in row.items() if v != was[k]}
            if changed:
                services[code] = changed
        return {"services": services} if services else {}
    counters: dict[str, Any] = {}
    for c in current["counters"]:
        wanted = [code.upper() for code in _items(get(f"services-{c['number']}"))]
        if wanted != c["services"]:
            counters[str(c["number"])] = {"services": wanted}
    return {"counters": counters} if counters else {}


async def _page(request: Request, signed_in: console_auth.Session, *, error: str = "",
                field: str = "", status: int = 200,
                posted: dict[str, str] | None = None) -> Response:
    """The page; after a refused change, `posted` (the form's values) is shown again."""
    c = api.ctx(request)
    answer = await live_config.of(request).answer(c)
    done = request.query_params.get("versi", "")
    message = (t("settings.page.saved", version=done[:10])
               if done.isdigit() and not error else "")
    return render(request, "settings.html", {
        "csrf": signed_in.csrf, "settings": answer, "current": answer["effective"],
        "history": await live_config.of(request).history(c, 20),
        "hours_text": hours_text, "describe": describe, "extra_rows": NOTICE_ROWS_EXTRA,
        "message": message, "error": error, "field": field, "posted": posted or {}},
        status=status)


async def page(request: Request) -> Response:
    """GET /admin/pengaturan."""
    found = await console_auth.session(request, console_auth.ADMIN)
    if found is None:
        return RedirectResponse("/admin", status_code=303)
    try:
        return await _page(request, found)
    except ApiError as exc:
        return error_page(request, exc)


async def save(request: Request) -> Response:
    """POST /admin/pengaturan/{part} (one of PARTS; form + csrf)."""
    part = request.path_params["part"]
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS)
        signed_in = await console_auth.require(request, console_auth.ADMIN,
                                               str(form.get("csrf", "")))
        if part not in PARTS:
            raise ApiError("not_found", part[:20])
        c = api.ctx(request)
        live = live_config.of(request)
        current = (await live.answer(c))["effective"]
        change = _change(part, form, current)
        if not change:
            return RedirectResponse(PAGE, status_code=303)
        expected = str(form.get("version", ""))
        try:
            saved = await live.change(c, change, "admin",
                                      expected=int(expected) if expected.isdigit() else None,
                                      client=live_config.client_of(request))
        except live_config.FieldError as exc:
            kept = {k: str(v)[:4000] for k, v in form.items()
                    if isinstance(v, str) and k not in ("csrf", "version")}
            return await _page(request, signed_in, error=exc.message, field=exc.field,
                               status=400, posted=kept)
        except ApiError as exc:
            if exc.code != "settings_conflict":
                raise
            return await _page(request, signed_in, error=exc.message, status=409)
        return RedirectResponse(f"{PAGE}?versi={saved['version']}", status_code=303)
    except ApiError as exc:
        return error_page(request, exc)


routes: list[BaseRoute] = [
    Route(PAGE, page),
    Route(PAGE + "/{part}", save, methods=["POST"]),
]
