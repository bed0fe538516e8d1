"""A screen's dropped acknowledgements (a call it handled without saying it, because its counter
had moved on): kept apart from its plays, and enough for /admin not to call the screen silent."""

from __future__ import annotations

import uuid

import pytest
from conftest import Api, site_document

from display_screens.dashboard import _sound_status
from display_server.config import SiteConfig, parse_config


@pytest.fixture
def site() -> SiteConfig:
    doc = site_document(f"pd-{uuid.uuid4().hex[:8]}")
    doc["screens"] = [{"id": "lobi", "name": "TV Lobi"}]
    return parse_config(doc)


def test_a_dropped_ack_is_kept_apart_from_the_last_play(api: Api) -> None:
    api.issue("A")
    api.issue("A")
    first = api.act(1, "call-next").json()["event_id"]
    second = api.act(2, "call-next").json()["event_id"]
    post = api.client.post
    assert post("/api/played", json={"event_id": first, "screen": "lobi"}).status_code == 200
    assert post("/api/played", json={"event_id": second, "screen": "lobi",
                                     "dropped": True}).status_code == 200
    played = api.client.get("/api/state").json()["played"]["lobi"]
    assert played["event_id"] == first and played["dropped_id"] == second
    assert set(played) == {"event_id", "at", "dropped_id", "dropped_at"}
    bad = post("/api/played", json={"event_id": second, "screen": "lobi", "dropped": "ya"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_field"


def test_admin_counts_a_dropped_call_as_handled() -> None:
    latest = {"event_id": "1795000095000-0"}
    played = {"event_id": "1795000000000-0", "at": "10.00"}
    assert _sound_status(played, latest) == "behind"  # 95 s behind the last call
    assert _sound_status({**played, "dropped_id": "1795000094000-0"}, latest) == "ok"
    assert _sound_status({"dropped_id": "1795000094000-0"}, latest) == "none"  # never played
    assert _sound_status(None, latest) == "none"
