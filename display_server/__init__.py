"""Redis-backed queue engine, HTTP API and WebSocket fan-out for antrian."""
