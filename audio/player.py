"""Plays a WAV file through an external command (aplay, paplay, ffplay …), one at a time."""

from __future__ import annotations

import asyncio
import logging
import shlex
import subprocess
from pathlib import Path

from texts import t

log = logging.getLogger(__name__)

DEFAULT_COMMAND = "aplay -q"
STOP_SECONDS = 0.5


class Player:
    """Runs ``command`` with the WAV path as its last argument.

    ``play`` never raises for a failing command: it logs why and returns False.
    A cancelled ``play`` terminates the command, killing it after half a second.
    """

    def __init__(self, command: str = DEFAULT_COMMAND) -> None:
        self.argv = shlex.split(command)
        if not self.argv:
            raise ValueError(t("audio.player_empty", example=DEFAULT_COMMAND))
        self.command = command

    async def play(self, path: Path, timeout: float) -> bool:
        """Play ``path``; True if the command exited 0 within ``timeout`` seconds."""
        try:
            process = await asyncio.create_subprocess_exec(
                *self.argv,
                str(path),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except OSError as error:
            log.error("player %r cannot start: %s", self.command, error)
            return False
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            log.error("player %r still running after %.0f s; stopped", self.command, timeout)
            await _stop(process)
            return False
        except asyncio.CancelledError:
            await _stop(process)
            raise
        if process.returncode != 0:
            message = stderr.decode(errors="replace").strip()[-300:]
            log.error("player %r failed (exit %s): %s", self.command, process.returncode, message)
            return False
        return True


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
