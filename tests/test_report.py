"""`antrian report`: the daily aggregates the action scripts keep, per service and counter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Api, FakeClock, write_site
from starlette.testclient import TestClient

from antrian.cli import main
from display_server.app import create_app
from display_server.config import load_config


def test_report_counts_a_day_per_service_and_counter(
    tmp_path: Path, redis_url: str, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issued, called, served (completed / not), no-shows, transfers and average minutes."""
    config = write_site(tmp_path / "site.toml", "report-" + tmp_path.name[-8:].lower()
                        .replace("_", "-"))
    site = load_config(str(config))
    with TestClient(create_app(site, redis_url, tmp_path, clock=clock)) as client:
        api = Api(client, site, tmp_path)
        for _ in range(4):
            api.issue("A")
        api.issue("B")
        clock.advance(minutes=10)
        api.act(1, "call-next")  # A001 waited 10 min
        clock.advance(minutes=6)
        api.act(1, "done", {"outcome": "completed"})  # served 6 min
        api.act(1, "call-next")  # A002
        api.act(1, "done", {"outcome": "not_completed"})
        api.act(1, "call-next")  # A003
        api.act(1, "skip")
        api.act(1, "call-next")  # A004
        api.act(1, "transfer", {"service": "B"})
    args = ["report", "--config", str(config), "--redis-url", redis_url, "--from", "2026-11-25",
            "--format", "json"]
    assert main(args) == 0
    rows = {row["key"]: row for row in json.loads(capsys.readouterr().out)}
    a = rows["A"]
    assert (a["issued"], a["called"], a["served"], a["completed"], a["not_completed"],
            a["no_show"], a["transferred"]) == (4, 4, 2, 1, 1, 1, 1)
    assert rows["B"]["issued"] == 1 and rows["C"]["issued"] == 0
    assert a["avg_service_min"] == 3.0  # (6 + 0) / 2
    assert a["avg_wait_min"] == 14.5  # (10 + 16 + 16 + 16) / 4
    assert main([*args, "--by", "counter"]) == 0
    counters = {row["key"]: row for row in json.loads(capsys.readouterr().out)}
    assert counters["c1"]["served"] == 2 and counters["c1"]["no_show"] == 1
    assert counters["c2"]["called"] == 0


def test_report_of_an_empty_range_prints_zeros_as_csv(
    tmp_path: Path, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A day with no visitors still lists every service, with zero counts."""
    config = write_site(tmp_path / "site.toml", "report-empty")
    assert main(["report", "--config", str(config), "--redis-url", redis_url,
                 "--from", "2020-01-01", "--to", "2020-01-03", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("key,issued,called,served")
    assert [line.split(",")[0] for line in lines[1:]] == ["A", "B", "C", "D"]
    assert all(line.split(",")[1] == "0" for line in lines[1:])


def test_report_refuses_a_bad_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A date that is not YYYY-MM-DD is a usage error, not a traceback."""
    with pytest.raises(SystemExit) as info:
        main(["report", "--from", "2026-13-45"])
    assert info.value.code == 2
    assert "invalid" in capsys.readouterr().err
