"""The key table is the whole truth about a site's Redis: after a working day every key matches
exactly one of its patterns with that pattern's expiry, the no-show list and the restore button
agree on the grace window to the millisecond, and docs/keys.md shows the table."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis
from conftest import Api, FakeClock
from test_officers import archive_once, officer_day
from test_sessions import sign_in

from display_server.keys import LAYOUT, PARTS, KeyName, SiteKeys, lua_prelude
from display_server.tokens import admin_token, load_secret

ROOT = Path(__file__).resolve().parent.parent


def work_a_day(api: Api) -> None:
    """Issue, call, recall, skip, restore, transfer, done, pause, played, rate limit; tickets
    are left waiting in both queues and as no-shows."""
    office = {"Authorization": f"Bearer {admin_token(load_secret(api.data_dir), api.site.id)}"}
    assert api.issue("A", request_id="kiosk-1").status_code == 201  # anonymous: rate limited
    assert api.issue("A", priority="lansia").status_code == 201
    assert api.issue("B").status_code == 201
    called = api.act(1, "call-next", {"request_id": "press-1"}).json()
    assert called["ticket"]["code"] == "A002"
    assert api.act(1, "recall").status_code == 200
    assert api.act(1, "skip").status_code == 200
    assert api.act(1, "restore", {"ticket": "A002"}).status_code == 200
    assert api.act(1, "call-next").json()["ticket"]["code"] == "A001"
    assert api.act(1, "transfer", {"service": "B"}).status_code == 200
    assert api.act(1, "call-next").status_code == 200
    assert api.act(1, "done", {"outcome": "completed"}).status_code == 200
    assert api.act(1, "call-next").status_code == 200
    assert api.act(1, "skip").status_code == 200
    assert api.issue("A").status_code == 201
    assert api.issue("A", priority="lansia").status_code == 201
    assert api.act(2, "pause", {"reason": "istirahat"}).status_code == 200
    assert api.act(2, "resume").status_code == 200
    assert api.client.post("/api/screens", json={"id": "tv-1"}, headers=office).status_code == 201
    played = {"event_id": called["event_id"], "screen": "tv-1"}
    assert api.client.post("/api/played", json=played).status_code == 200
    assert api.client.get("/api/state").status_code == 200
    change = {"site": {"running_text": ["Selamat datang"]}}  # the office's live settings
    assert api.client.patch("/api/settings", json=change, headers=office).status_code == 200


def sign_in_and_out_everywhere(api: Api) -> None:
    """A console signs in, the office ends every session, then signs in again."""
    sign_in(api, 1)
    office, csrf = sign_in(api, "admin")
    ended = api.client.post("/admin/logout-all", data={"csrf": csrf}, headers={"Cookie": office},
                            follow_redirects=False)
    assert ended.status_code == 303
    sign_in(api, "admin")


def test_every_key_of_a_working_day_matches_one_pattern_with_its_expiry(
    api: Api, redis_url: str
) -> None:
    """Each key matches exactly one row of the table, every row is used, and each key expires as
    its row says (kept, fixed seconds, or computed)."""
    work_a_day(api)
    sign_in_and_out_everywhere(api)
    officer_day(api)
    asyncio.run(archive_once(redis_url, api))
    keys = SiteKeys(api.site.id)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    found = sorted(client.scan_iter(match=keys.prefix + "*"))
    kinds = {key: keys.kind(key) for key in found}
    assert {key: k for key, k in kinds.items() if len(k) != 1} == {}
    assert {k[0] for k in kinds.values()} == set(LAYOUT)
    for key, (kind,) in kinds.items():
        expiry, left = LAYOUT[kind].ttl, client.ttl(key)
        if expiry is None:
            assert left == -1, key
        elif isinstance(expiry, int):
            assert 0 < left <= expiry, key
        else:
            assert left > 0, key


def test_keys_of_other_sites_and_foreign_keys_match_nothing() -> None:
    """A key is of a site only under its prefix and one of the table's patterns."""
    keys = SiteKeys("serang")
    assert keys.kind("antrian:{serang}:t:2026-11-25:A001") == ["ticket"]
    assert keys.kind("antrian:{tangerang}:t:2026-11-25:A001") == []
    assert keys.kind("antrian:{serang}:t:A001") == []
    assert keys.kind("antrian:{serang}:ratelimit:tickets:2001:db8::/64:29672") == ["ratelimit"]


def test_a_key_needs_every_part_of_its_pattern() -> None:
    with pytest.raises(ValueError, match="takes"):
        SiteKeys("serang")("queue", "2026-11-25")


def test_the_lua_prelude_builds_the_same_keys_as_python(redis_url: str) -> None:
    """The generated Lua builders, run in Redis, give exactly the Python keys."""
    keys = SiteKeys("serang")
    samples: dict[KeyName, tuple[str, ...]] = {
        name: tuple(f"x{i}" for i in range(len(key.parts))) for name, key in LAYOUT.items()}
    calls = ", ".join(f"{name}_key({', '.join(repr(p) for p in parts)})"
                      for name, parts in samples.items())
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    built = client.eval(lua_prelude() + f"return {{{calls}}}", 0, keys.prefix)
    assert built == [keys(name, *parts) for name, parts in samples.items()]


def test_the_list_of_no_shows_and_restore_agree_on_the_grace_window(
    api: Api, clock: FakeClock
) -> None:
    """At the window's last millisecond a no-show is listed and can be put back; one
    millisecond later it is neither."""
    for _ in range(2):
        api.issue("A")
    for code in ("A001", "A002"):
        assert api.act(1, "call-next").json()["ticket"]["code"] == code
        api.act(1, "skip")
        clock.advance(milliseconds=1)

    def listed() -> list[str]:
        r = api.client.get("/api/counters/1/skipped", headers=api.auth(1))
        return [t["code"] for t in r.json()["tickets"]]

    clock.advance(minutes=api.site.grace_minutes, milliseconds=-2)
    assert listed() == ["A002", "A001"]
    assert api.act(1, "restore", {"ticket": "A001"}).status_code == 200
    clock.advance(milliseconds=2)
    assert listed() == []
    assert api.act(1, "restore", {"ticket": "A002"}).json()["error"]["code"] == "grace_expired"


def key_table() -> str:
    """The key table as docs/keys.md shows it."""
    rows = ["| key | type | expires | holds |", "|---|---|---|---|"]
    for key in LAYOUT.values():
        if key.ttl is None:
            expires = "kept"
        elif isinstance(key.ttl, int) and key.ttl < 3600:
            expires = f"{key.ttl // 60} min"
        elif isinstance(key.ttl, int):
            days, hours = divmod(key.ttl, 86400)
            expires = f"{days} days" if not hours else f"{key.ttl // 3600} h"
        else:
            expires = key.ttl
        rows.append(f"| `antrian:{{site}}:{key.pattern}` | {key.type} | {expires} | "
                    f"{key.purpose} |")
    rows += ["", "| part | stands for |", "|---|---|"]
    rows += [f"| `{{{part}}}` | {text} |" for part, text in PARTS.items()]
    return "\n".join(rows)


def test_docs_keys_md_shows_the_table() -> None:
    """docs/keys.md carries the table of display_server/keys.py, row for row."""
    doc = (ROOT / "docs" / "keys.md").read_text()
    assert key_table() in doc, "paste this table into docs/keys.md:\n" + key_table()
