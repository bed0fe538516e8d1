"""The shipped Redis settings (deploy/redis/antrian.conf) on a real redis-server, as Debian's
redis.conf includes them, and `antrian serve --log-format json` on that Redis's unix socket:
one JSON line per counter action with the counter, ticket, action, request id, status and
duration."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from conftest import Api, ServerProcess, wait_until, write_site

from antrian import install

SNIPPET = install.REDIS_SNIPPET


@pytest.fixture
def production_redis(tmp_path: Path) -> Iterator[Path]:
    """redis-server started as Debian starts it (its redis.conf says `appendonly no`), with our
    snippet included at the end; the socket and data dir moved into tmp_path. Its socket path."""
    binary = shutil.which("redis-server")
    assert binary, "apt-get install redis-server"
    socket = tmp_path / "redis.sock"
    snippet = tmp_path / "antrian.conf"
    snippet.write_text(SNIPPET.read_text().replace("/run/redis/redis-server.sock", str(socket)))
    base = tmp_path / "redis.conf"
    base.write_text(f"port 0\nappendonly no\nmaxmemory-policy allkeys-lru\ndir {tmp_path}\n"
                    f"include {snippet}\n")
    process = subprocess.Popen([binary, str(base)], stdout=subprocess.DEVNULL)
    try:
        wait_until(lambda: socket.exists() and redis.Redis(unix_socket_path=str(socket)).ping(),
                   what="redis-server on its unix socket")
        yield socket
    finally:
        process.terminate()
        process.wait(10)


def test_the_snippet_sets_aof_everysec_noeviction_and_the_socket(production_redis: Path) -> None:
    client = redis.Redis(unix_socket_path=str(production_redis), decode_responses=True)
    values = {key: client.config_get(key)[key] for key in (
        "appendonly", "appendfsync", "maxmemory", "maxmemory-policy", "unixsocket",
        "unixsocketperm", "port")}
    assert values == {"appendonly": "yes", "appendfsync": "everysec",
                      "maxmemory": str(1024 ** 3), "maxmemory-policy": "noeviction",
                      "unixsocket": str(production_redis), "unixsocketperm": "770", "port": "0"}
    assert production_redis.stat().st_mode & 0o777 == 0o770
    # full, it refuses a write and keeps every key (a queue never loses a ticket to eviction)
    client.set("ticket", "A001")
    client.config_set("maxmemory", 1)
    with pytest.raises(redis.exceptions.ResponseError, match="maxmemory"):
        client.set("another", "A002")
    assert client.get("ticket") == "A001"


def action_lines(log: Path) -> list[dict[str, Any]]:
    """The server log's JSON lines of the counter-action logger."""
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "antrian.actions"]


def test_serve_log_format_json_writes_one_line_per_counter_action(
        production_redis: Path, tmp_path: Path) -> None:
    config = write_site(tmp_path / "site.toml", "jsonlog", counters=4)
    server = ServerProcess(config, f"unix://{production_redis}?db=0", tmp_path / "data",
                           extra_args=["--log-format", "json"])
    (tmp_path / "data").mkdir()
    server.start()
    try:
        api = server.api
        ticket = api.ticket("A")["code"]
        called = api.client.post("/api/counters/2/call-next", headers={
            **api.auth(2), "X-Request-ID": "lobby-pc-7.42"})
        assert called.status_code == 200
        assert called.headers["x-request-id"] == "lobby-pc-7.42"
        wrong = api.act(3, "done", {"outcome": "completed"})  # nothing called at counter 3
        assert wrong.status_code == 409
        wait_until(lambda: len(action_lines(server.log)) >= 2, what="two action lines")
        time.sleep(0.2)  # a third (wrong) line would have come with these
        first, second = action_lines(server.log)
    finally:
        server.stop()
    assert first["counter"] == 2 and first["ticket"] == ticket and first["action"] == "call-next"
    assert first["request_id"] == "lobby-pc-7.42" and first["status"] == 200
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert first["level"] == "info" and first["time"].endswith("+00:00")
    assert second["counter"] == 3 and second["action"] == "done" and second["status"] == 409
    assert second["ticket"] is None
    assert second["request_id"] == wrong.headers["x-request-id"]  # made by the server
    assert len(second["request_id"]) == 32
    # after the start block (stdout, for the person starting it) every log line is JSON
    text = server.log.read_text().splitlines()
    logged = text[text.index("Tekan Ctrl+C untuk berhenti.") + 1:-1]
    assert len(logged) >= 2 and all(json.loads(line) for line in logged)


def test_text_by_default_and_a_hostile_request_id_is_replaced(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """The console's action route is logged as the API's; an X-Request-ID that is not a plain
    token (a line break, 200 characters) never reaches the log: a new id replaces it."""
    ticket = api.ticket("A")["code"]
    caplog.set_level(logging.INFO, logger="antrian.actions")
    hostile = "x\nfake line" + "y" * 200
    called = api.client.post("/api/counters/1/call-next",
                             headers={**api.auth(1), "X-Request-ID": hostile[:150]})
    assert called.status_code == 200
    (record,) = [r for r in caplog.records if r.name == "antrian.actions"]
    rid = called.headers["x-request-id"]
    assert rid != hostile[:150] and len(rid) == 32
    assert record.getMessage() == (f"counter 1 call-next ticket={ticket} status=200 "
                                   f"{record.fields['duration_ms']:.1f} ms request_id={rid}")
    unknown = api.client.post("/counter/1/actions/call-next", json={})  # no session: refused
    assert unknown.status_code in (401, 403)
    records = [r for r in caplog.records if r.name == "antrian.actions"]
    assert [r.fields["status"] for r in records] == [200, unknown.status_code]
