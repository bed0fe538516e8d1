"""GET /audio/calls/{event_id}.wav: the chime and spoken announcement of one call (or of a
burst, `{id},{id}.wav`, as one announcement), for TVs."""

from __future__ import annotations

import asyncio
import os

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from audio.render import Renderer, open_engine
from audio.settings import AnnouncementSettings, live_pack_dir
from audio.voicepack import MANIFEST
from display_server.api import Context, ctx
from display_server.errors import ApiError
from protocol.event_ids import is_event_id

ANNOUNCED = ("call", "recall")


class CallAudio:
    """The route of one app, with its Renderer started on first use (the speech engine owns a
    thread) and closed with the app."""

    def __init__(self) -> None:
        self._renderer: Renderer | None = None
        self._pack: str | None = None  # the live pack's real folder the renderer was made with
        self._lock = asyncio.Lock()
        self.routes = [Route("/audio/calls/{event_id}.wav", self.call_audio)]

    async def _get(self, c: Context) -> Renderer:
        """The renderer, made again when the live voice pack changed (the studio published or
        restored a version: the live pack is a link to another folder)."""
        live = live_pack_dir(c.site.announcement.voice_pack, c.data_dir)
        pack = os.path.realpath(live) if (live / MANIFEST).is_file() else None
        async with self._lock:
            if self._renderer is None or pack != self._pack:
                old = self._renderer
                settings = AnnouncementSettings.from_site(c.site, c.data_dir)
                self._renderer = await asyncio.to_thread(
                    lambda: Renderer(settings, open_engine(settings)))
                self._pack = pack
                if old is not None:  # calls still rendering with it get 30 s to finish
                    asyncio.get_running_loop().call_later(30, old.close)
            return self._renderer

    async def call_audio(self, request: Request) -> Response:
        """One call's announcement, or a burst's: `{id},{id}...` (up to the site's
        `merge_max` calls, each a call or recall) spoken as one, after one chime."""
        c = ctx(request)
        event_ids = request.path_params["event_id"].split(",")
        if not 1 <= len(event_ids) <= c.site.announcement.merge_max or not all(
                is_event_id(event_id) for event_id in event_ids):
            raise ApiError("invalid_parameter", "event_id")
        calls: list[tuple[str, int, str | None]] = []
        for event_id in event_ids:
            event = await c.store.event(event_id) or {}
            if event.get("type") not in ANNOUNCED:
                raise ApiError("unknown_event", event_id)
            calls.append((event["ticket"], int(event["counter"]), event.get("service")))
        renderer = await self._get(c)
        path = await renderer.render_merged(calls)
        return FileResponse(path, media_type="audio/wav",
                            headers={"Cache-Control": "public, max-age=86400, immutable"})

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
