"""The `antrian say`, `antrian voice prerender` and `antrian announcer` subcommands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from audio import phrases, studio_commands, wavs
from audio.announcer import Announcer, serve
from audio.events import screen_name
from audio.player import DEFAULT_COMMAND, Player
from audio.prerender import prerender
from audio.render import Renderer, open_engine
from audio.settings import AnnouncementSettings
from audio.speech import SpeechError, open_speech
from audio.voicepack import MANIFEST
from display_server.config import SiteConfig, load_config
from display_server.paths import data_dir
from texts import t

Common = Callable[[argparse.ArgumentParser], None]
Command = Callable[[argparse.Namespace], int]


def register(sub: Any, common: Common) -> None:
    """Add `say`, `voice prerender` and `announcer` to the `antrian` command's subparsers."""
    say = sub.add_parser("say", help=t("help.announce"))
    common(say)
    say.add_argument("code", help=t("help.announce_ticket"))
    say.add_argument("counter", type=int, help=t("help.announce_counter"))
    say.add_argument("--service", help=t("help.announce_service"))
    say.add_argument("--out", type=Path, help=t("help.announce_wav"))
    say.add_argument("--text", action="store_true", help=t("help.announce_text"))
    say.set_defaults(func=_guarded(_say))

    voice = sub.add_parser("voice", help=t("help.voice"))
    voice_sub = voice.add_subparsers(dest="voice_command", required=True)
    fill = voice_sub.add_parser(
        "prerender", help=t("help.voice_fill")
    )
    common(fill)
    fill.add_argument("--pack", type=Path, help=t("help.voice_pack"))
    fill.set_defaults(func=_guarded(_prerender))
    studio_commands.register(voice_sub, common, _guarded)

    announcer = sub.add_parser(
        "announcer", help=t("help.announcer")
    )
    common(announcer)
    announcer.add_argument("--server", required=True, help=t("help.server_url"))
    announcer.add_argument(
        "--player",
        default=DEFAULT_COMMAND,
        help=t("help.announcer_player", command=DEFAULT_COMMAND),
    )
    announcer.add_argument(
        "--screen",
        help=t("help.announcer_screen"),
    )
    announcer.set_defaults(func=_guarded(_announcer))


def _say(args: argparse.Namespace) -> int:
    site, settings = _load(args)
    service = args.service or phrases.ticket_prefix(args.code)
    text = settings.text(args.code, args.counter, service)
    if site.counter(args.counter) is None:
        known = ", ".join(str(c.number) for c in site.counters)
        return _fail(t("cli.unknown_counter", counter=args.counter, known=known))
    if site.service(service) is None:
        known = ", ".join(s.code for s in site.services)
        return _fail(t("cli.unknown_service", service=service, known=known))
    if args.text or args.out is None:
        print(text)
    if args.out is not None:
        renderer = Renderer(settings, open_engine(settings))
        try:
            clip = renderer.compose(text)
        finally:
            renderer.close()
        args.out.write_bytes(wavs.to_bytes(clip))
    return 0


def _prerender(args: argparse.Namespace) -> int:
    _, settings = _load(args)
    pack = args.pack or settings.pack_dir
    if pack is None:
        return _fail(t("voice.no_pack"))
    words = settings.vocabulary()
    speech = open_speech(settings.voice, settings.rate)
    try:
        rendered = prerender(pack, words, speech, ProgressLine(sys.stderr))
    finally:
        speech.close()
    print(t("voice.prerender_done", rendered=len(rendered), kept=len(words) - len(rendered),
            manifest=pack / MANIFEST))
    return 0


def _announcer(args: argparse.Namespace) -> int:
    _, settings = _load(args)
    player = Player(args.player)
    screen = args.screen or screen_name()
    renderer = Renderer(settings, open_engine(settings))
    try:
        announcer = Announcer(
            args.server, renderer, player, screen=screen, max_age_seconds=settings.max_age_seconds,
            position_file=data_dir(args.data_dir) / f"{screen}.position",
        )
        return asyncio.run(serve(announcer))
    finally:
        renderer.close()


class ProgressLine:
    """A one-line progress bar, redrawn in place on a terminal, printed once when done."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width

    def __call__(self, done: int, total: int, word: str) -> None:
        if not self.stream.isatty() and done < total:
            return
        filled = self.width * done // max(total, 1)
        step = t("voice.prerender_step", done=done, total=total, word=word)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {step}"
        end = "\n" if done == total else ""
        self.stream.write(f"\r{line:<{self.width + 40}}{end}")
        self.stream.flush()


def _guarded(command: Command) -> Command:
    """The command, turning bad input and speech failures into a message and exit code 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (ValueError, SpeechError) as error:
            return _fail(str(error))

    return run


def _load(args: argparse.Namespace) -> tuple[SiteConfig, AnnouncementSettings]:
    site = load_config(args.config)
    return site, AnnouncementSettings.from_site(site, data_dir(args.data_dir))


def _fail(message: str) -> int:
    print(f"antrian: {message}", file=sys.stderr)
    return 2
