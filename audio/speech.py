"""Speech engine 1: espeak-ng's Indonesian voice, via pyttsx3 in one worker thread or the CLI."""

from __future__ import annotations

import contextlib
import logging
import queue
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

from audio import wavs
from texts import t

log = logging.getLogger(__name__)

WARM_UP_TEXT = "satu"
TIMEOUT_SECONDS = 10.0
RENDER_ATTEMPTS = 3


class SpeechError(RuntimeError):
    """Speech could not be synthesized."""


class Speech(Protocol):
    """Something that turns text into a house-format clip. Safe to call from any thread."""

    @property
    def name(self) -> str:
        """Identifies the engine and its settings, for cache keys."""
        ...

    def synthesize(self, text: str) -> wavs.Clip: ...

    def close(self) -> None: ...


class PyttsxSpeech:
    """pyttsx3 + espeak-ng owned by one dedicated thread fed by a queue.

    pyttsx3 crashes when used from several threads and renders only the last of
    several queued files, so every request is one save + runAndWait in that thread.
    The voice and rate are set once at start, then one warm-up render is made.
    espeak-ng's state is global to the process, so only one may be open at a time.
    Construction raises SpeechError if pyttsx3 or the voice cannot be loaded,
    or if another instance is open.
    """

    _open = threading.Lock()

    def __init__(self, voice: str, rate: int) -> None:
        if not PyttsxSpeech._open.acquire(blocking=False):
            raise SpeechError(t("speech.already_open"))
        self.name = f"pyttsx3:{voice}:{rate}"
        self._jobs: queue.SimpleQueue[tuple[str, Future[wavs.Clip]] | None] = queue.SimpleQueue()
        self._closed = False
        self._workdir = Path(tempfile.mkdtemp(prefix="antrian-speech-"))
        ready: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(voice, rate, ready), name="antrian-speech", daemon=True
        )
        self._thread.start()
        try:
            ready.result(TIMEOUT_SECONDS)
        except Exception as error:
            self.close()
            raise SpeechError(t("speech.unavailable", error=error)) from error

    def synthesize(self, text: str) -> wavs.Clip:
        """Render ``text``; blocks until the worker thread has rendered it."""
        if not self._thread.is_alive():
            raise SpeechError(t("speech.worker_stopped"))
        future: Future[wavs.Clip] = Future()
        self._jobs.put((text, future))
        try:
            return future.result(TIMEOUT_SECONDS)
        except TimeoutError:
            raise SpeechError(t("speech.pyttsx3_timeout", seconds=round(TIMEOUT_SECONDS),
                                 text=text)) from None

    def close(self) -> None:
        """Stop the worker thread after the requests already queued. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        self._thread.join(TIMEOUT_SECONDS)
        shutil.rmtree(self._workdir, ignore_errors=True)
        PyttsxSpeech._open.release()

    def _run(self, voice: str, rate: int, ready: Future[None]) -> None:
        try:
            engine = _start_engine(voice, rate)
            with contextlib.suppress(SpeechError):  # the first render after init may write nothing
                self._render(engine, WARM_UP_TEXT, 0)
        except Exception as error:
            ready.set_exception(error)
            return
        ready.set_result(None)
        count = 0
        while (job := self._jobs.get()) is not None:
            text, future = job
            count += 1
            try:
                future.set_result(self._render(engine, text, count))
            except Exception as error:
                future.set_exception(error)

    def _render(self, engine: Any, text: str, count: int) -> wavs.Clip:
        """One save + runAndWait. pyttsx3 sometimes returns before writing the audio (an empty
        or missing file, seen on the first renders after init): render again, a few times."""
        path = self._workdir / f"{count}.wav"
        problem = t("speech.no_file")
        for _ in range(RENDER_ATTEMPTS):
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            try:
                clip = wavs.read(path)
            except (OSError, ValueError) as error:
                problem = str(error)
                continue
            finally:
                path.unlink(missing_ok=True)
            if clip.frames:
                return clip
            problem = t("speech.empty_file")
        raise SpeechError(t("speech.no_audio", text=text, problem=problem))


def _start_engine(voice: str, rate: int) -> Any:
    import pyttsx3  # type: ignore[import-untyped]
    from pyttsx3.drivers import espeak as driver  # type: ignore[import-untyped]

    driver.print = _quiet  # its "Audio saved to" lines
    engine = pyttsx3.init("espeak")
    known = {v.id for v in engine.getProperty("voices")}
    if voice not in known and not any(v.endswith(f"/{voice}") for v in known):
        raise SpeechError(t("speech.unknown_voice", voice=voice))
    engine.setProperty("voice", voice)
    engine.setProperty("rate", rate)
    return engine


def _quiet(*args: object, **kwargs: object) -> None:
    return None


class EspeakCliSpeech:
    """The `espeak-ng` command, one subprocess per request (no shared state).

    Construction makes one warm-up render, so a missing command or unknown voice
    raises SpeechError at once.
    """

    def __init__(self, voice: str, rate: int, command: str = "espeak-ng") -> None:
        found = shutil.which(command)
        if found is None:
            raise SpeechError(t("speech.not_installed", command=command))
        self.name = f"espeak-ng:{voice}:{rate}"
        self._argv = [found, "-v", voice, "-s", str(rate), "--stdin"]
        self.synthesize(WARM_UP_TEXT)

    def synthesize(self, text: str) -> wavs.Clip:
        with tempfile.TemporaryDirectory(prefix="antrian-espeak-") as folder:
            path = Path(folder) / "speech.wav"
            try:
                result = subprocess.run(
                    [*self._argv, "-w", str(path)],
                    input=text.encode(),
                    capture_output=True,
                    timeout=TIMEOUT_SECONDS,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise SpeechError(t("speech.espeak_timeout",
                                     seconds=round(TIMEOUT_SECONDS))) from None
            if result.returncode != 0:
                message = result.stderr.decode(errors="replace").strip()
                raise SpeechError(t("speech.espeak_failed", code=result.returncode,
                                    message=message))
            return wavs.read(path)

    def close(self) -> None:
        return None


def open_speech(voice: str, rate: int) -> Speech:
    """pyttsx3 speech if it loads, else the espeak-ng command (logged); SpeechError if neither."""
    try:
        return PyttsxSpeech(voice, rate)
    except SpeechError as error:
        log.warning("%s; falling back to the espeak-ng command", error)
    return EspeakCliSpeech(voice, rate)
