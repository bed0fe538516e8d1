"""The voice studio on `/admin/suara` (the office session; every change carries its CSRF token
in `X-CSRF-Token`): the script of clips, a recording per clip processed into the draft, a
preview of any announcement from the draft, publish / restore versions, export / import the pack
as one file. It joins the office session (display_screens) with the pack tools (audio), so it
lives in the composition root."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from audio import processing, wavs
from audio.packspeech import PackSpeech
from audio.render import Renderer
from audio.settings import AnnouncementSettings
from audio.speech import Speech, SpeechError, open_speech
from audio.studio import MAX_IMPORT_BYTES, NeededClip, Studio, StudioError, needed_clips
from display_screens import console_auth
from display_screens.pages import SECURITY_HEADERS, render
from display_server import api
from display_server.bodies import DIGITS
from display_server.errors import ApiError

PAGE = "/admin/suara"
CLIP_ID = re.compile(r"[a-z0-9_-]{1,120}")
TICKET = re.compile(r"[A-Z]{1,3}[0-9]{1,6}")
T = TypeVar("T")


class VoiceStudio:
    """The studio's routes of one app; the synthesized voice filling a preview's gaps is
    started on first use and closed with the app."""

    def __init__(self) -> None:
        self._speech: Speech | None = None
        self._lock = asyncio.Lock()
        self.routes: list[BaseRoute] = [
            Route(PAGE, self.page),
            Route(PAGE + "/naskah", _office(self.script)),
            Route(PAGE + "/klip/{clip}.wav", _office(self.clip_audio)),
            Route(PAGE + "/klip/{clip}", _office(self.record, post=True), methods=["POST"]),
            Route(PAGE + "/pratinjau.wav", _office(self.preview)),
            Route(PAGE + "/terbitkan", _office(self.publish, post=True), methods=["POST"]),
            Route(PAGE + "/versi/{number}/pulihkan", _office(self.restore, post=True),
                  methods=["POST"]),
            Route(PAGE + "/ekspor", _office(self.export)),
            Route(PAGE + "/impor", _office(self.import_pack, post=True), methods=["POST"]),
        ]

    async def page(self, request: Request) -> Response:
        """GET /admin/suara: the studio (the office's sign-in first)."""
        signed_in = await console_auth.session(request, console_auth.ADMIN)
        if signed_in is None:
            return RedirectResponse("/admin", status_code=303)
        c = api.ctx(request)
        return render(request, "voice_studio.html", {
            "csrf": signed_in.csrf, "counters": [x.number for x in c.site.counters],
            "prefixes": sorted({s.code for s in c.site.services}),
            "max_seconds": processing.MAX_PHRASE_SECONDS})

    async def script(self, request: Request) -> Response:
        """GET /admin/suara/naskah: every clip needed, which the draft has, the versions, whether
        a pack is live (`live`: only then can it be exported)."""
        studio, needed = _studio(request), _needed(request)
        draft = await asyncio.to_thread(studio.draft)
        versions = await asyncio.to_thread(studio.versions)
        live = await asyncio.to_thread(studio.active_dir) is not None
        clips = [{"id": n.id, "words": " ".join(n.key), "read": n.read, "group": n.group,
                  "max_seconds": n.max_seconds,
                  "recorded": n.key in draft.clips and draft.clips[n.key].is_file()}
                 for n in needed]
        return JSONResponse({
            "clips": clips, "done": sum(1 for x in clips if x["recorded"]), "total": len(clips),
            "versions": [asdict(v) for v in versions], "live": live,
            "target_lufs": processing.TARGET_LUFS}, headers={"Cache-Control": "no-store"})

    async def record(self, request: Request) -> Response:
        """POST /admin/suara/klip/{clip} (body: the recording as the browser made it): processed
        into the draft; a refused recording (4xx) leaves the draft unchanged."""
        needed = _clip(request)
        data = await _body(request, processing.MAX_UPLOAD_BYTES)
        try:
            done = await asyncio.to_thread(_studio(request).record, needed, data)
        except processing.RecordingRefused as exc:
            raise _error(exc.code, str(exc)) from None
        return JSONResponse({"id": needed.id, "seconds": round(done.clip.duration, 3),
                             "loudness": round(done.loudness, 2),
                             "trimmed_start": round(done.trimmed_start, 3),
                             "trimmed_end": round(done.trimmed_end, 3)})

    async def clip_audio(self, request: Request) -> Response:
        """GET /admin/suara/klip/{clip}.wav: the draft's clip, to listen back."""
        needed = _clip(request)
        draft = await asyncio.to_thread(_studio(request).draft)
        path = draft.clips.get(needed.key)
        if path is None or not path.is_file():
            raise ApiError("unknown_clip", needed.id)
        return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "no-store"})

    async def preview(self, request: Request) -> Response:
        """GET /admin/suara/pratinjau.wav?tiket=A12&loket=3: that call's announcement from the
        draft's clips, synthesized words filling the gaps."""
        c = api.ctx(request)
        ticket = request.query_params.get("tiket", "")
        counter = request.query_params.get("loket", "")
        if not TICKET.fullmatch(ticket):
            raise ApiError("invalid_parameter", "tiket")
        if not DIGITS.fullmatch(counter) or c.site.counter(int(counter)) is None:
            raise ApiError("invalid_parameter", "loket")
        settings = AnnouncementSettings.from_site(c.site, c.data_dir)
        service = ticket.rstrip("0123456789")
        if c.site.service(service) is None:
            raise ApiError("unknown_service", service)
        draft = await asyncio.to_thread(_studio(request).draft)
        fallback = await self._fallback(settings)

        def compose() -> bytes:
            renderer = Renderer(settings, PackSpeech(draft, fallback))
            return wavs.to_bytes(renderer.compose(renderer.text(ticket, int(counter))))
        try:
            data = await asyncio.to_thread(compose)
        except SpeechError as exc:
            raise _error("internal", str(exc)) from None
        return Response(data, media_type="audio/wav", headers={"Cache-Control": "no-store"})

    async def publish(self, request: Request) -> Response:
        """POST /admin/suara/terbitkan: the draft becomes the live pack, a new version."""
        number = await _studio_call(_studio(request).publish)
        return JSONResponse({"version": number})

    async def restore(self, request: Request) -> Response:
        """POST /admin/suara/versi/{number}/pulihkan: an earlier version is live again."""
        raw = request.path_params["number"]
        if not DIGITS.fullmatch(raw):
            raise ApiError("invalid_parameter", "number")
        studio = _studio(request)
        await _studio_call(lambda: studio.restore(int(raw)))
        return JSONResponse({"version": int(raw)})

    async def export(self, request: Request) -> Response:
        """GET /admin/suara/ekspor (?draf=1 for the draft): the pack as one zip file."""
        draft = request.query_params.get("draf") == "1"
        studio = _studio(request)
        data = await _studio_call(lambda: studio.export(draft=draft))
        name = f"paket-suara-{api.ctx(request).site.id}{'-draf' if draft else ''}.zip"
        return Response(data, media_type="application/zip", headers={
            **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'})

    async def import_pack(self, request: Request) -> Response:
        """POST /admin/suara/impor (body: a zip from ekspor): it becomes the draft."""
        data = await _body(request, MAX_IMPORT_BYTES)
        studio = _studio(request)
        count = await _studio_call(lambda: studio.import_pack(data))
        return JSONResponse({"clips": count})

    async def _fallback(self, settings: AnnouncementSettings) -> Speech:
        async with self._lock:
            if self._speech is None:
                self._speech = await asyncio.to_thread(open_speech, settings.voice,
                                                       settings.rate)
            return self._speech

    def close(self) -> None:
        if self._speech is not None:
            self._speech.close()


Handler = Callable[[Request], Awaitable[Response]]


def _office(handler: Handler, post: bool = False) -> Handler:
    """Only for the office's session (401); a POST also needs `X-CSRF-Token` (403)."""
    async def endpoint(request: Request) -> Response:
        await console_auth.require(request, console_auth.ADMIN,
                                   request.headers.get("x-csrf-token", "") if post else None)
        return await handler(request)
    return endpoint


def _studio(request: Request) -> Studio:
    c = api.ctx(request)
    return Studio.for_site(c.site.announcement.voice_pack, c.data_dir)


def _needed(request: Request) -> list[NeededClip]:
    c = api.ctx(request)
    return needed_clips(AnnouncementSettings.from_site(c.site, c.data_dir))


def _clip(request: Request) -> NeededClip:
    name = request.path_params["clip"]
    if not CLIP_ID.fullmatch(name):
        raise ApiError("invalid_parameter", "clip")
    for needed in _needed(request):
        if needed.id == name:
            return needed
    raise ApiError("unknown_clip", name)


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not DIGITS.fullmatch(declared) or int(declared) > limit):
        raise ApiError("payload_too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError("payload_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


def _error(code: str, message: str) -> ApiError:
    error = ApiError(code)
    error.message = message
    return error


async def _studio_call(call: Callable[[], T]) -> T:
    try:
        return await asyncio.to_thread(call)
    except StudioError as exc:
        raise _error(exc.code, str(exc)) from None

