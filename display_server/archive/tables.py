"""The archive's tables (SQLAlchemy Core): events, visits, legs, the archiver's position and
the complaint desk's complaints, photos and notes.

Times are epoch milliseconds (`*_ms`); `day` is the site-local day `YYYY-MM-DD` of the ticket
(or of the event, for events without a ticket). The migrations in `migrations/versions` create
exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData()

events = Table(
    "events", metadata,
    Column("site", String(64), primary_key=True),
    Column("event_id", String(48), primary_key=True),   # "<ms>-<seq>"
    Column("ms", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("type", String(32), nullable=False),
    Column("at", String(40), nullable=False),            # ISO local time with offset
    Column("day", String(10), nullable=False),
    Column("ticket", String(32)),
    Column("service", String(32)),
    Column("counter", Integer),
    Column("data", Text, nullable=False),                # the whole event as JSON
    Index("ix_events_site_day", "site", "day"),
    Index("ix_events_site_ms", "site", "ms"),
)

visits = Table(
    "visits", metadata,
    Column("site", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("service", String(32), nullable=False),       # where it was issued (origin)
    Column("tenant", String(64), nullable=False),
    Column("priority", String(32), nullable=False, default=""),
    Column("issued_ms", BigInteger, nullable=False),
    Column("first_call_ms", BigInteger),
    Column("first_counter", Integer),
    Column("recalls", Integer, nullable=False, default=0),
    Column("transfers", Integer, nullable=False, default=0),
    Column("final_service", String(32), nullable=False),
    Column("final_counter", Integer),
    Column("outcome", String(16)),  # completed | not_completed | no_show | closed | None (open)
    Column("finished_ms", BigInteger),
    Column("officer", String(128)),
    Index("ix_visits_site_day", "site", "day"),
    Index("ix_visits_site_service_day", "site", "service", "day"),
    Index("ix_visits_site_tenant_day", "site", "tenant", "day"),
)

legs = Table(
    "legs", metadata,
    Column("site", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("leg", Integer, primary_key=True),            # 0 where issued, +1 per transfer
    Column("service", String(32), nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("enqueued_ms", BigInteger, nullable=False),
    Column("first_call_ms", BigInteger),
    Column("counter", Integer),                          # the first counter that called it here
    Column("called_ms_at_counter", BigInteger),          # its first call by that counter
    Column("outcome", String(16)),  # transferred | completed | not_completed | no_show | closed
    Column("finished_ms", BigInteger),
    Index("ix_legs_site_day", "site", "day"),
    Index("ix_legs_site_service_day", "site", "service", "day"),
    Index("ix_legs_site_tenant_day", "site", "tenant", "day"),
    Index("ix_legs_site_counter_day", "site", "counter", "day"),
)

archiver_state = Table(
    "archiver_state", metadata,
    Column("site", String(64), primary_key=True),
    Column("last_event_id", String(48), nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("closed_day", String(10)),   # the last local day whose open tickets were closed
    Column("trimmed", Boolean, nullable=False, default=False),  # events lost before archiving
    Column("alarm", Text),              # what was lost, for the log, /api/health and /admin
)

# the visit report's tallies of a closed month (display_server/reporting/months.py)
report_months = Table(
    "report_months", metadata,
    Column("site", String(64), primary_key=True),
    Column("by", String(16), primary_key=True),         # tenant | service | counter | day | month
    Column("month", String(7), primary_key=True),       # YYYY-MM
    Column("data", Text, nullable=False),               # JSON: [key, counts, waits, services]...
    Column("computed_ms", BigInteger, nullable=False),
)

# the satisfaction survey (SKM): one answer per served ticket, from its `survey` event
survey_responses = Table(
    "survey_responses", metadata,
    Column("site", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),         # the ticket's day
    Column("code", String(32), primary_key=True),
    Column("event_id", String(48), nullable=False),
    Column("ms", BigInteger, nullable=False),            # when it was answered
    Column("service", String(32), nullable=False),       # the service that served the ticket
    Column("tenant", String(64), nullable=False),
    Column("counter", Integer),                          # the counter that served it
    Column("officer", String(128)),
    Column("via", String(16), nullable=False),           # status (the link) | counter (tablet)
    *(Column(f"u{n}", SmallInteger, nullable=False) for n in range(1, 10)),  # answers 1..4
    Column("gender", String(16)),                        # the optional profile
    Column("age", String(16)),
    Column("education", String(16)),
    Column("occupation", String(16)),
    Index("ux_survey_responses_site_event", "site", "event_id", unique=True),
    sqlite_with_rowid=False,  # stored in key order: a range of days is read in one sweep
)

# the suggestion and complaint desk (display_server/complaints.py): one row per complaint,
# its photo (kept in the archive, so a backup of the archive holds it) and the office's actions
complaints = Table(
    "complaints", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(64), nullable=False),
    Column("tracking", String(16), nullable=False),      # the visitor's code, without dashes
    Column("created_ms", BigInteger, nullable=False),
    Column("day", String(10), nullable=False),           # the site-local day it came in
    Column("category", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("contact", String(100)),
    Column("has_photo", Boolean, nullable=False, default=False),
    Column("ticket_day", String(10)),                    # the visit it was sent from, if any
    Column("ticket_code", String(32)),
    Column("tenant", String(64)),                        # assigned by the office
    Column("status", String(16), nullable=False),        # baru | diproses | dijawab | ditutup
    Column("answer", Text),
    Column("assigned_ms", BigInteger),
    Column("answered_ms", BigInteger),
    Column("closed_ms", BigInteger),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ux_complaints_site_tracking", "site", "tracking", unique=True),
    Index("ix_complaints_site_day", "site", "day"),
    Index("ix_complaints_site_status", "site", "status"),
)

complaint_photos = Table(
    "complaint_photos", metadata,
    Column("complaint_id", Integer, ForeignKey("complaints.id", ondelete="CASCADE"),
           primary_key=True),
    Column("media_type", String(32), nullable=False),    # image/jpeg | image/png | image/webp
    Column("data", LargeBinary, nullable=False),
)

complaint_notes = Table(
    "complaint_notes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("complaint_id", Integer, ForeignKey("complaints.id", ondelete="CASCADE"),
           nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("action", String(16), nullable=False),        # dikirim | ditugaskan | dijawab | ditutup
    Column("detail", Text),                              # the tenant, the answer
    Index("ix_complaint_notes_complaint", "complaint_id"),
)
