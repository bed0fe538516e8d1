"""The seeded simulator (antrian simulate) on the real Lua scripts, and the visit report of its
days checked figure by figure against sums computed straight from the raw events."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from conftest import ROOT, make_site, site_document
from sqlalchemy import create_engine, func, select
from support_report_check import expected, tickets

from antrian.cli import main
from display_server.archive.db import database_url as normalized
from display_server.archive.tables import events as archive_events
from display_server.archive.tables import survey_responses, visits
from display_server.config import SiteConfig, parse_config
from display_server.keys import SiteKeys
from display_server.reporting.figures import GROUPINGS
from display_server.reporting.visit import visit_report
from display_server.simulate import default_first, simulate

# Monday 2 March 2026: Friday the 6th (short hours), Sunday the 8th closed for C, and a holiday
FIRST = date(2026, 3, 2)
HOLIDAY = "2026-03-04"


def traffic_site() -> SiteConfig:
    """Three tenants, five services (C weekdays only and short on Fridays, D weekdays with a
    lunch break), five counters, two of them serving several services."""
    document = site_document(f"sim-{uuid.uuid4().hex[:8]}", holidays=[HOLIDAY])
    document.update(
        services=[
            {"code": "A", "name": "Pajak Kendaraan", "tenant": "samsat"},
            {"code": "B", "name": "KTP-el", "tenant": "capil"},
            {"code": "C", "name": "Kartu Keluarga", "tenant": "capil",
             "days": ["senin", "selasa", "rabu", "kamis", "jumat"],
             "hours": {"senin": "08:00-15:00", "selasa": "08:00-15:00", "rabu": "08:00-15:00",
                       "kamis": "08:00-15:00", "jumat": "08:00-11:30"}},
            {"code": "D", "name": "SKCK", "tenant": "polres",
             "days": ["senin", "selasa", "rabu", "kamis", "jumat"],
             "hours": ["08:00-12:00", "13:00-15:00"]},
            {"code": "E", "name": "Informasi", "tenant": "polres"},
        ],
        tenants=[{"id": "samsat", "name": "Samsat"}, {"id": "capil", "name": "Disdukcapil"},
                 {"id": "polres", "name": "Polres"}],
        counters=[{"number": 1, "services": ["A"]}, {"number": 2, "services": ["A", "B"]},
                  {"number": 3, "services": ["B", "C"]}, {"number": 4, "services": ["D", "E"]},
                  {"number": 5, "services": ["C", "D", "E"]}],
    )
    return parse_config(document)


def events(redis_url: str, site: SiteConfig) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    rows: list[tuple[str, dict[str, str]]] = cast(
        Any, client.xrange(SiteKeys(site.id)("events")))
    return [json.loads(fields["d"]) for _, fields in rows]


def run(site: SiteConfig, redis_url: str, database: str | None, days: int,
        per_day: int, seed: int = 7) -> dict[str, int]:
    return dict(asyncio.run(simulate(site, redis_url, database, first=FIRST, days=days,
                                     per_day=per_day, seed=seed, stream_maxlen=1_000_000)))


def test_every_ticket_ends_once_and_the_seed_repeats_the_days(redis_url: str) -> None:
    site, again = traffic_site(), traffic_site()
    done = run(site, redis_url, None, days=7, per_day=80)
    run(again, redis_url, None, days=7, per_day=80)
    seen = events(redis_url, site)
    assert seen == events(redis_url, again)  # the same seed, the same week
    assert len(seen) > 7 * 80 * 2
    kinds = {e["type"] for e in seen}
    assert {"ticket", "call", "recall", "skip", "restore", "done", "transfer", "pause",
            "resume"} <= kinds
    assert any(e["type"] == "call" and e.get("completed") for e in seen)
    days = {e["at"][:10] for e in seen if e["type"] == "ticket"}
    assert HOLIDAY not in days and "2026-03-02" in days and "2026-03-08" in days
    # C closes at 11:30 on Friday, D over lunch: nobody takes their tickets then
    issued = [e for e in seen if e["type"] == "ticket"]
    assert not [e for e in issued if e["service"] == "C" and e["at"].startswith("2026-03-06")
                and e["at"][11:16] >= "11:30"]
    assert not [e for e in issued if e["service"] == "D" and "12:00" <= e["at"][11:16] < "13:00"]
    assert not [e for e in issued if e["service"] in "CD" and e["at"].startswith("2026-03-08")]

    found = tickets(seen)
    assert len(found) == done["ticket"] == len(issued)
    left = 0
    for ticket in found.values():
        *before, last = ticket.legs
        assert all(leg.outcome == "transferred" for leg in before)
        assert last.outcome in (None, "completed", "not_completed", "no_show")
        if last.outcome is None:  # left waiting at closing, for the day close
            assert not last.calls or ticket.legs[-1].outcome is None
            left += 1
    assert left > 0


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_report_of_a_month_and_a_bit_equals_the_sums_of_its_raw_events(redis_url: str,
                                                              database_url: str) -> None:
    site = traffic_site()
    done = run(site, redis_url, database_url, days=32, per_day=60)  # into April
    raw = events(redis_url, site)
    assert done["archived"] == len(raw)
    db = create_engine(normalized(Path("."), {"ANTRIAN_DATABASE_URL": database_url}))
    first, last = FIRST.isoformat(), "2026-04-02"
    whole = expected(raw, site, first, last, "day")["total"]
    assert all(whole[n] for n in ("issued", "called", "completed", "not_completed", "no_show",
                                  "transferred", "service_p90_s"))
    assert whole["issued"] > whole["served"] + whole["no_show"]  # some left at closing
    with db.connect() as connection:
        for by in GROUPINGS:
            report = visit_report(connection, site, FIRST, date(2026, 4, 2), by)
            want = expected(raw, site, first, last, by)
            rows = {row.pop("key"): row for row in [*report["rows"], report["total"]]}
            for row in rows.values():
                row.pop("name")
            assert rows.pop("total") == want["total"], by
            assert {k: v for k, v in rows.items() if any(v.values())} == want["rows"], by
        # the day close: every ticket left open at closing, and only those, is closed
        closed = set(map(tuple, connection.execute(select(visits.c.day, visits.c.code).where(
            visits.c.site == site.id, visits.c.outcome == "closed"))))
    assert closed == {key for key, ticket in tickets(raw).items()
                      if ticket.legs[-1].outcome is None}
    db.dispose()


def test_the_command_simulates_and_archives_days(redis_url: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    demo = (ROOT / "display_server/sites/serang.toml").read_text("utf-8")
    site_id = f"sim-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "site.toml"
    config.write_text(demo.replace('id = "serang"', f'id = "{site_id}"', 1), "utf-8")
    archive = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    monkeypatch.delenv("ANTRIAN_REDIS_URL", raising=False)
    common = ["simulate", "--config", str(config), "--data-dir", str(tmp_path), "--days", "2",
              "--per-day", "30", "--start", "2026-03-06"]
    assert main(common) == 2
    assert "simulasi memerlukan Redis" in capsys.readouterr().err

    assert main([*common, "--redis-url", redis_url, "--database-url", archive]) == 0
    out = capsys.readouterr().out
    assert "Simulasi 2 hari sejak 2026-03-06: 60 tiket" in out
    client = redis.Redis.from_url(redis_url)
    with create_engine(archive).connect() as connection:
        archived = connection.scalar(select(func.count()).select_from(archive_events))
        days = set(connection.scalars(select(visits.c.day).distinct()))
    assert archived == client.xlen(SiteKeys(site_id)("events")) > 120
    assert days == {"2026-03-06", "2026-03-07"}
    # some served visitors answered the survey: each answer archived, in the SKM report
    stream = client.xrange(SiteKeys(site_id)("events"))
    surveys = sum(1 for _, fields in stream if b'"type":"survey"' in fields[b"d"])
    with create_engine(archive).connect() as connection:
        answered = connection.scalar(select(func.count()).select_from(survey_responses))
    assert answered == surveys > 0
    monkeypatch.setenv("ANTRIAN_DATABASE_URL", archive)
    assert main(["report", "--skm", "--config", str(config), "--from", "2026-03-06", "--to",
                 "2026-03-07", "--format", "json"]) == 0
    skm = json.loads(capsys.readouterr().out)
    assert skm["total"]["responses"] == surveys and 25 <= skm["total"]["ikm"] <= 100


def test_without_start_the_days_end_yesterday_in_the_sites_zone() -> None:
    """`antrian simulate --days 2` without --start: the two days before today in Jakarta, also
    at 18.00 UTC when the host's (UTC) date is still the day before."""
    site = make_site()
    morning = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # Wednesday 25 November, 10.00 WIB
    assert default_first(site, 2, morning) == date(2026, 11, 23)
    evening = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # Thursday 26 November, 01.00 WIB
    assert default_first(site, 2, evening) == date(2026, 11, 24)
    assert default_first(site, 1, datetime(2026, 11, 25, 16, 59, 59, tzinfo=UTC)) == date(
        2026, 11, 24)  # 23.59.59 WIB: still the 25th
