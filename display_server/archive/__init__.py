"""The durable archive: every event of the stream and every visit in SQL (SQLite or PostgreSQL)."""
