"""The announcer against real server processes and Redis, playing into a folder."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ServerProcess, eventually

from audio.announcer import Announcer
from audio.player import Player
from audio.render import Renderer
from audio.settings import AnnouncementSettings
from audio.speech import EspeakCliSpeech

ROOT = Path(__file__).resolve().parent.parent
SCREEN = "announcer-test"

PLAYER = """
import json, os, shutil, sys, time
folder, seconds, wav = sys.argv[1], float(sys.argv[2]), sys.argv[-1]
start = time.time()
open(os.path.join(folder, "started"), "a").write(f"{os.getpid()} {wav}\\n")
if seconds < 0:
    sys.exit("speaker unplugged")
time.sleep(seconds)
n = len([p for p in os.listdir(folder) if p.endswith(".wav")])
shutil.copy(wav, os.path.join(folder, f"{n:03d}.wav"))
with open(os.path.join(folder, "played.jsonl"), "a") as log:
    log.write(json.dumps({"wav": wav, "copy": f"{n:03d}.wav", "start": start,
                          "end": time.time()}) + "\\n")
"""

async def call(server: ServerProcess, counter: int, action: str = "call-next") -> str:
    """Issue a ticket (for call-next) and make `counter` act, off the event loop the announcer
    runs on; the new event id."""
    def act() -> str:
        if action == "call-next":
            server.api.ticket("A")
        answer = server.api.act(counter, action)
        assert answer.status_code == 200, answer.text
        return str(server.api.state()["event_id"])

    return await asyncio.to_thread(act)


def played_ack(server: ServerProcess) -> dict[str, Any]:
    """What the server keeps of the test screen's played reports."""
    return dict(server.api.state()["played"].get(SCREEN, {}))


class Speaker:
    """The folder the test player plays into, and the command that plays there."""

    def __init__(self, folder: Path, seconds: float = 0.05) -> None:
        folder.mkdir()
        script = folder.parent / "player.py"
        script.write_text(PLAYER)
        self.folder = folder
        self.command = f"{sys.executable} {script} {folder} {seconds}"

    def played(self) -> list[dict[str, Any]]:
        log = self.folder / "played.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def started(self) -> list[str]:
        marker = self.folder / "started"
        return marker.read_text().splitlines() if marker.exists() else []


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    return Renderer(AnnouncementSettings(cache_dir=tmp_path / "cache"), EspeakCliSpeech("id", 150))


@pytest.fixture
def server(server_factory: Any) -> ServerProcess:
    """A running server of the test site that knows the test screen."""
    server: ServerProcess = server_factory()
    server.api.register_screen(SCREEN)
    return server


@asynccontextmanager
async def announcing(
    server: ServerProcess, renderer: Renderer, speaker: Speaker, **options: Any
) -> AsyncIterator[Announcer]:
    """Run an announcer until the block ends, once it has read the server's snapshot."""
    options.setdefault("max_age_seconds", 120)
    options.setdefault("screen", SCREEN)
    player = Player(options.pop("player", speaker.command))
    announcer = Announcer(server.url, renderer, player, **options)
    task = asyncio.create_task(announcer.run())
    try:
        await eventually(lambda: announcer.follower.since is not None, "the snapshot")
        yield announcer
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def wav_of(renderer: Renderer, code: str, counter: int) -> str:
    return str(renderer.path_for(renderer.text(code, counter)))


def said(announcer: Announcer) -> list[tuple[str, int]]:
    """(ticket, counter) of every call the announcer has said, alone or merged, in order."""
    return [(c.ticket, c.counter) for turn in announcer.history for c in turn.speak]


async def test_a_burst_of_ten_calls_plays_in_order_without_overlap(
    server: ServerProcess, renderer: Renderer, tmp_path: Path
) -> None:
    """Ten calls at once: each said exactly once, in event order, the ones that waited merged
    (at most merge_max to an announcement, one after another, never overlapping), all acked."""
    speaker = Speaker(tmp_path / "speaker", seconds=0.5)
    async with announcing(server, renderer, speaker) as announcer:
        last = ""
        for counter in range(1, 11):
            last = await call(server, counter)
        await eventually(lambda: sum(len(t.speak) for t in announcer.history) >= 10,
                         "ten calls said")
        await eventually(lambda: played_ack(server).get("event_id") == last, "the last ack")
    turns = list(announcer.history)
    said = [(c.ticket, c.counter) for turn in turns for c in turn.speak]
    assert said == [(f"A{n:03d}", n) for n in range(1, 11)]
    assert max(len(turn.speak) for turn in turns) <= renderer.settings.merge_max
    assert len(turns) < 10  # the calls that waited were merged
    played = speaker.played()
    assert [p["wav"] for p in played] == [
        str(renderer.path_for(renderer.settings.merged_text(
            [(c.ticket, c.counter, c.service) for c in turn.speak]))) for turn in turns]
    for before, after in itertools.pairwise(played):
        assert before["end"] <= after["start"]
    copies = [(speaker.folder / p["copy"]).read_bytes() for p in played]
    assert copies == [Path(p["wav"]).read_bytes() for p in played]


async def test_a_call_whose_counter_moved_on_is_never_said(
    server: ServerProcess, renderer: Renderer, tmp_path: Path
) -> None:
    """While a long announcement plays, counter 2's call is finished and counter 3's visitor
    is skipped: neither is said (both acknowledged as dropped), counter 4's call is."""
    speaker = Speaker(tmp_path / "speaker", seconds=2.0)
    async with announcing(server, renderer, speaker) as announcer:
        await call(server, 1)
        await eventually(lambda: len(speaker.started()) == 1, "the first announcement")
        await call(server, 2)
        await call(server, 3)
        await asyncio.to_thread(server.api.act, 2, "done", {"outcome": "completed"})
        await asyncio.to_thread(server.api.act, 3, "skip")
        last = await call(server, 4)
        await eventually(lambda: played_ack(server).get("event_id") == last, "the last ack")
        await eventually(lambda: "dropped_id" in played_ack(server), "the dropped ack")
    said = [(c.ticket, c.counter) for turn in announcer.history for c in turn.speak]
    assert said == [("A001", 1), ("A004", 4)]


async def test_a_recall_is_played_again(server: ServerProcess, renderer: Renderer,
                                        tmp_path: Path) -> None:
    """Ulangi makes the announcer say the same call once more."""
    speaker = Speaker(tmp_path / "speaker")
    async with announcing(server, renderer, speaker):
        await call(server, 7)
        await call(server, 7, action="recall")
        await eventually(lambda: len(speaker.played()) >= 2, "call and recall")
    assert [p["wav"] for p in speaker.played()] == [wav_of(renderer, "A001", 7)] * 2


async def test_a_screen_the_site_does_not_know_still_announces(
    server: ServerProcess, renderer: Renderer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The server refuses the played reports of an unknown screen: it says so in one log line,
    stops reporting, and plays every call all the same."""
    speaker = Speaker(tmp_path / "speaker")
    async with announcing(server, renderer, speaker, screen="tv-unknown") as announcer:
        await call(server, 1)
        await eventually(lambda: announcer.acks_refused, "the refusal")
        await call(server, 2)
        await eventually(lambda: len(speaker.played()) == 2, "both calls")
    assert [p["wav"] for p in speaker.played()] == [
        wav_of(renderer, "A001", 1), wav_of(renderer, "A002", 2)
    ]
    assert caplog.text.count("does not know screen 'tv-unknown'") == 1
    state = await asyncio.to_thread(server.api.state)
    assert state["played"] == {}


async def test_stale_calls_are_dropped_with_a_log_line(
    server: ServerProcess, renderer: Renderer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Calls older than max_age_seconds when their turn comes are skipped, newer ones played."""
    speaker = Speaker(tmp_path / "speaker")
    skew = [timedelta(0)]
    caplog.set_level(logging.INFO, logger="audio.announcer")
    async with announcing(server, renderer, speaker, max_age_seconds=60,
                          now=lambda: datetime.now(UTC) + skew[0]):
        await call(server, 1)
        await eventually(lambda: len(speaker.played()) == 1, "the fresh call")
        skew[0] = timedelta(hours=1)
        await call(server, 2)
        await call(server, 3)
        await eventually(lambda: caplog.text.count("dropped stale") == 2, "two drops")
        skew[0] = timedelta(0)
        await call(server, 4)
        await eventually(lambda: len(speaker.played()) == 2, "the next fresh call")
    assert [p["wav"] for p in speaker.played()] == [
        wav_of(renderer, "A001", 1), wav_of(renderer, "A004", 4)
    ]
    assert "dropped stale call A002 at counter 2" in caplog.text
    assert "more than 60 s ago" in caplog.text


async def test_no_call_is_said_during_a_salat_pause(
    server_factory: Any, renderer: Renderer, tmp_path: Path
) -> None:
    """With [signage.prayer] pause_announcements, a call made during a prayer's pause (the
    announcer's clock set to Zuhur plus a minute) is not said and is acknowledged as dropped;
    after the pause the next call is said."""
    config = server_factory.config
    config.write_text(config.read_text() + "\n[signage.prayer]\nlatitude = -6.08\n"
                      "longitude = 106.33\npause_announcements = true\n")
    server: ServerProcess = server_factory()
    server.api.register_screen(SCREEN)
    zuhur = server.api.client.get("/display/papan").json()["prayer"]["times"][1]["ms"] / 1000
    clock = [datetime.fromtimestamp(zuhur + 60, UTC)]
    speaker = Speaker(tmp_path / "speaker")
    async with announcing(server, renderer, speaker, now=lambda: clock[0],
                          max_age_seconds=1e8) as announcer:
        await eventually(lambda: bool(announcer.papan), "the prayer times")
        await call(server, 1)
        await eventually(lambda: "dropped_id" in played_ack(server), "the dropped ack")
        clock[0] = datetime.fromtimestamp(zuhur + 3600, UTC)
        await call(server, 2)
        await eventually(lambda: said(announcer) == [("A002", 2)], "the call after the pause")
    assert len(speaker.played()) == 1


async def test_a_server_restart_loses_nothing(
    server_factory: Any, server: ServerProcess, renderer: Renderer, tmp_path: Path
) -> None:
    """Calls made while the announcer is reconnecting are replayed with since, in order."""
    speaker = Speaker(tmp_path / "speaker")
    async with announcing(server, renderer, speaker) as announcer:
        for counter in (1, 2, 3):
            await call(server, counter)
        await eventually(lambda: len(said(announcer)) >= 3, "calls before the restart")
        server.stop()
        server = server_factory(port=server.port)
        for counter in (4, 5, 6):
            await call(server, counter)
        await eventually(lambda: len(said(announcer)) >= 6, "calls after the restart")
    assert said(announcer) == [(f"A{n:03d}", n) for n in range(1, 7)]


async def test_a_restarted_announcer_announces_what_it_missed(
    server: ServerProcess, renderer: Renderer, tmp_path: Path
) -> None:
    """With a position file, calls made while the announcer itself was stopped are played."""
    speaker = Speaker(tmp_path / "speaker")
    position = tmp_path / "announcer.position"
    async with announcing(server, renderer, speaker, position_file=position):
        await call(server, 1)
        await eventually(lambda: len(speaker.played()) == 1, "the first call")
    assert position.read_text() == (await asyncio.to_thread(server.api.state))["event_id"]
    await call(server, 2)
    await call(server, 3)
    async with announcing(server, renderer, speaker, position_file=position) as announcer:
        await eventually(lambda: len(said(announcer)) == 2, "the two missed calls")
    assert said(announcer) == [("A002", 2), ("A003", 3)]
    assert len(speaker.played()) in (2, 3)  # the first call, then the two alone or merged


@pytest.mark.parametrize("player", ["fails", "missing"])
async def test_a_failing_player_is_logged_and_the_announcer_goes_on(
    server: ServerProcess, renderer: Renderer, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    player: str,
) -> None:
    """A player that fails or cannot start is logged each time; nothing is acknowledged."""
    speaker = Speaker(tmp_path / "speaker", seconds=-1)
    command = speaker.command if player == "fails" else str(tmp_path / "no-such-player")
    async with announcing(server, renderer, speaker, player=command):
        expected = "speaker unplugged" if player == "fails" else "cannot start"
        await call(server, 1)
        await eventually(lambda: caplog.text.count(expected) == 1, "the first failure")
        await call(server, 2)
        await eventually(lambda: caplog.text.count(expected) == 2, "two failures")
    assert speaker.played() == []
    assert played_ack(server) == {}


def test_sigterm_stops_the_announcer_mid_clip(
    server_factory: Any, server: ServerProcess, tmp_path: Path
) -> None:
    """`antrian announcer` exits cleanly on SIGTERM while a long clip plays, killing the player."""
    speaker = Speaker(tmp_path / "speaker", seconds=60)
    process = subprocess.Popen(
        [sys.executable, "-m", "antrian", "announcer", "--server", server.url,
         "--player", speaker.command, "--config", str(server_factory.config),
         "--data-dir", str(tmp_path / "announcer-data")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
    reader.start()
    try:
        asyncio.run(eventually(lambda: any("snapshot" in line for line in lines), "the snapshot"))
        asyncio.run(call(server, 9))
        asyncio.run(eventually(lambda: len(speaker.started()) == 1, "the clip to start"))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(5)
    assert any("announcer stopped" in line for line in lines)
    player_pid = int(speaker.started()[0].split()[0])
    with pytest.raises(ProcessLookupError):
        os.kill(player_pid, 0)
    assert speaker.played() == []
