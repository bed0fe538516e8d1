"""The one test helper for a site's HTTP API as its kiosks, counters and office use it (tokens
filled in), over any httpx client: a running server's, or a TestClient around the app. Benches
use it too."""

from __future__ import annotations

from typing import Any

import httpx

from display_server.tokens import admin_token, counter_token, kiosk_token


class SiteApi:
    """Requests to one site's API, each with the token its caller would have."""

    def __init__(self, client: httpx.Client, secret: bytes, site_id: str) -> None:
        self.client = client
        self.secret = secret
        self.site_id = site_id

    def token(self, counter: int) -> str:
        return counter_token(self.secret, self.site_id, counter)

    def auth(self, counter: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(counter)}"}

    def kiosk_auth(self) -> dict[str, str]:
        """The kiosks' token: tickets without the per-client limit."""
        return {"Authorization": f"Bearer {kiosk_token(self.secret, self.site_id)}"}

    def admin_token(self) -> str:
        return admin_token(self.secret, self.site_id)

    def issue(self, service: str = "A", **extra: Any) -> httpx.Response:
        """POST /api/tickets without a token, as a visitor's phone would (limited per client)."""
        return self.client.post("/api/tickets", json={"service": service, **extra})

    def ticket(self, service: str = "A", **extra: Any) -> dict[str, Any]:
        """A ticket from the kiosk (as many as a test needs): the 201 answer."""
        r = self.client.post("/api/tickets", json={"service": service, **extra},
                             headers=self.kiosk_auth())
        assert r.status_code == 201, r.text
        return dict(r.json())

    def status(self, ticket: dict[str, Any]) -> httpx.Response:
        """GET /api/tickets/{day}/{code}/{key}: the tail of an issued ticket's status_url."""
        return self.client.get("/api/tickets/" + ticket["status_url"].removeprefix("/t/"))

    def act(self, counter: int, action: str, body: Any = None) -> httpx.Response:
        """POST /api/counters/{counter}/{action} with that counter's token."""
        return self.client.post(f"/api/counters/{counter}/{action}", json=body,
                                headers=self.auth(counter))

    def call(self, counter: int) -> dict[str, Any]:
        """`counter` calls the next visitor: the 200 answer (`ticket`, `event_id`)."""
        r = self.act(counter, "call-next")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def state(self) -> dict[str, Any]:
        return dict(self.client.get("/api/state").json())

    def counter(self, number: int) -> dict[str, Any]:
        """Counter `number` as /api/state shows it."""
        return next(c for c in self.state()["counters"] if c["number"] == number)

    def register_screen(self, screen: str) -> None:
        """Have the office register a TV, so the server takes its played reports."""
        r = self.client.post("/api/screens", json={"id": screen},
                             headers={"Authorization": f"Bearer {self.admin_token()}"})
        assert r.status_code == 201, r.text
