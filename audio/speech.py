"""Speech engine 1: espeak-ng's Indonesian voice, via pyttsx3 in one worker thread or the CLI."""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

from audio import wavs
from audio.numbers import terbilang
from texts import t

log = logging.getLogger(__name__)

WARM_UP_TEXT = "satu"
RATE_CHECK_TEXT = terbilang(987_654)  # a number's words, long enough for rate_kept to judge
TIMEOUT_SECONDS = 10.0
RENDER_ATTEMPTS = 3
# espeak-ng's Indonesian voice, measured at rates 80-450 (docs/operations.md, "Speech rate"):
# seconds ~ (per vowel x vowels + per pause x pauses + end) / rate
SECONDS_X_RATE_PER_VOWEL = 32.0
SECONDS_X_RATE_PER_PAUSE = 25.0
SECONDS_X_RATE_END = 60.0
# a render whose length is outside this share of the expected one did not keep the rate:
# real renders of sentences at 80-450 measured 0.84-0.99; pyttsx3's default rate 200 instead
# of a configured 150 or less gives at most 0.71 (175: 0.76-0.83), instead of 300 at least 1.3
RATE_BAND = (0.8, 1.25)
# shorter texts (a word of a voice pack) are not checked: espeak-ng's fixed pauses dominate
MIN_CHECKED_VOWELS = 10

_VOWELS = re.compile(r"[aiueo]", re.IGNORECASE)
_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")
_PAUSES = re.compile(r"[,.;:!?]")
_DIGITS = re.compile(r"[0-9]")


class SpeechError(RuntimeError):
    """Speech could not be synthesized."""


def vowels(text: str) -> int:
    """The vowels of ``text``, about its syllables (an acronym's letter counts one, a digit
    two)."""
    acronyms = "".join(_ACRONYM.findall(text))
    return (len(_VOWELS.findall(_ACRONYM.sub("", text))) + len(acronyms)
            + 2 * len(_DIGITS.findall(text)))


def expected_seconds(text: str, rate: int) -> float:
    """How long espeak-ng's Indonesian voice takes to say ``text`` at ``rate`` words a minute:
    about 32/rate seconds a vowel, plus a pause per punctuation mark and the end. Sentences at
    rates 80-450 measured 0.84-0.99 of it."""
    pauses = len(_PAUSES.findall(text))
    return (SECONDS_X_RATE_PER_VOWEL * vowels(text) + SECONDS_X_RATE_PER_PAUSE * pauses
            + SECONDS_X_RATE_END) / rate


def rate_kept(seconds: float, text: str, rate: int, band: tuple[float, float] = RATE_BAND) -> bool:
    """Whether a render of ``text`` lasting ``seconds`` was spoken at about ``rate``: its length
    is within ``band`` (shares) of ``expected_seconds``. A text of fewer than
    ``MIN_CHECKED_VOWELS`` vowels always passes. Rates near espeak's default 200 cannot be told
    from it, which does not matter: then the speech is near the rate asked for."""
    if vowels(text) < MIN_CHECKED_VOWELS:
        return True
    low, high = band
    return low <= seconds / expected_seconds(text, rate) <= high


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

    Every render's length is checked against the rate (``rate_kept``): espeak-ng applies a
    rate change asynchronously, and a render has been seen to come out at pyttsx3's default
    200 words a minute. Such a render is counted in ``rate_misses``, the rate is set again
    and the text rendered again; if it still misses, the espeak-ng command renders it, and
    every later text too (``command_only``): once lost, the rate was seen to stay lost.
    Construction raises SpeechError if pyttsx3 or the voice cannot be loaded,
    or if another instance is open.
    """

    _open = threading.Lock()

    def __init__(self, voice: str, rate: int) -> None:
        if not PyttsxSpeech._open.acquire(blocking=False):
            raise SpeechError(t("speech.already_open"))
        self.name = f"pyttsx3:{voice}:{rate}"
        self.voice, self.rate = voice, rate
        self.rate_misses = 0  # renders that came out at another rate (and were made again)
        self._command: EspeakCliSpeech | None = None
        self.command_only = False  # pyttsx3 lost the rate for good: the command speaks
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
                self._render(engine, WARM_UP_TEXT, 0, check_rate=False)
            with contextlib.suppress(SpeechError):  # an engine that lost its rate at start-up
                self._render(engine, RATE_CHECK_TEXT, 0)  # is caught before the first call
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

    def _render(self, engine: Any, text: str, count: int, check_rate: bool = True) -> wavs.Clip:
        """One save + runAndWait. pyttsx3 sometimes returns before writing the audio (an empty
        or missing file, seen on the first renders after init): render again, a few times.
        A render at the wrong rate is made again with the rate set anew, then by the command."""
        if self.command_only and self._command is not None:
            return self._command.synthesize(text)
        path = self._workdir / f"{count}.wav"
        problem = t("speech.no_file")
        off_rate: wavs.Clip | None = None
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
            if not clip.frames:
                problem = t("speech.empty_file")
                continue
            if not check_rate or rate_kept(clip.duration, text, self.rate):
                return clip
            self.rate_misses += 1
            log.warning("pyttsx3 rendered %r in %.2f s, expected about %.2f s at rate %d; "
                        "setting the rate again", text, clip.duration,
                        expected_seconds(text, self.rate), self.rate)
            off_rate = clip
            _set_rate(self.rate)
        if off_rate is not None:
            return self._by_command(text, off_rate)
        raise SpeechError(t("speech.no_audio", text=text, problem=problem))

    def _by_command(self, text: str, off_rate: wavs.Clip) -> wavs.Clip:
        """``text`` from the espeak-ng command, which always keeps its rate; without the
        command, the render at the wrong rate (logged)."""
        try:
            if self._command is None:
                self._command = EspeakCliSpeech(self.voice, self.rate)
            clip = self._command.synthesize(text)
        except SpeechError as error:
            log.error("%s; speaking %r at the wrong rate", error, text)
            return off_rate
        log.error("pyttsx3 keeps losing the rate %d; the espeak-ng command speaks from now on",
                  self.rate)
        self.command_only = True
        return clip


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


def _set_rate(rate: int) -> None:
    """Set espeak-ng's rate again and wait (at most a second) until it has nothing queued:
    it applies parameters asynchronously, so a change made while busy can be lost."""
    from pyttsx3.drivers import _espeak

    _espeak.SetParameter(_espeak.RATE, rate, 0)
    for _ in range(100):
        if not _espeak.IsPlaying():
            return
        time.sleep(0.01)


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
