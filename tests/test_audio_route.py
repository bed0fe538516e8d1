"""GET /audio/calls/{event_id}.wav serves the announcement of a call as a real WAV file."""

from __future__ import annotations

import io
import wave

from conftest import Api


def test_call_audio_is_a_cacheable_wav_of_the_announcement(web: Api) -> None:
    """A call's event id gives a mono 22050 Hz WAV of chime + speech, cacheable by TVs."""
    web.issue("A")
    call = web.act(1, "call-next").json()
    r = web.client.get(f"/audio/calls/{call['event_id']}.wav")
    assert r.status_code == 200
    assert r.headers["content-type"] == "audio/wav"
    assert "immutable" in r.headers["cache-control"]
    with wave.open(io.BytesIO(r.content)) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (1, 22050, 2)
        seconds = wav.getnframes() / wav.getframerate()
    assert 2.0 < seconds < 12.0
    again = web.client.get(f"/audio/calls/{call['event_id']}.wav")
    assert again.content == r.content


def test_non_call_and_bad_event_ids_are_refused(web: Api) -> None:
    """A ticket event or a missing id is 404 unknown_event; a malformed id is 400."""
    ticket_event = web.issue("A").json()["event_id"]
    for event_id, status, code in [(ticket_event, 404, "unknown_event"),
                                   ("1-0", 404, "unknown_event"),
                                   ("abc", 400, "invalid_parameter")]:
        r = web.client.get(f"/audio/calls/{event_id}.wav")
        assert r.status_code == status and r.json()["error"]["code"] == code
