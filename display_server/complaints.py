"""The suggestion and complaint desk's rules and storage: tracking codes, the checks on what a
visitor sends (plain text, an optional contact, an optional photo whose type is read from its
content, stored re-encoded without its EXIF/GPS metadata), the service level (due day,
overdue) and the archive's SQL for the visitor's lookup and the office's inbox (assign to a
tenant, answer, close).

Everything here is synchronous SQL on the archive's engine; the HTTP layers run it in a thread.
A visitor's view never holds the contact, the photo or anything of another complaint.
"""

from __future__ import annotations

import io
import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from display_server.archive.tables import complaint_notes, complaint_photos, complaints
from display_server.complaints_config import Complaints
from display_server.config import SiteConfig
from display_server.errors import ApiError
from texts import N_, t

# tracking codes: no 0/O, 1/I; 10 characters of 32 = 50 bits, shown as PGD-XXXXX-XXXXX
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PREFIX = "PGD"
CODE_LENGTH = 10
STATUS_NAMES = {
    "baru": N_("complaint.status.baru"), "diproses": N_("complaint.status.diproses"),
    "dijawab": N_("complaint.status.dijawab"), "ditutup": N_("complaint.status.ditutup")}
STATUSES = tuple(STATUS_NAMES)
NOTE_NAMES = {
    "dikirim": N_("complaint.note.dikirim"), "ditugaskan": N_("complaint.note.ditugaskan"),
    "dijawab": N_("complaint.note.dijawab"), "ditutup": N_("complaint.note.ditutup")}
OPEN_STATUSES = ("baru", "diproses")  # not yet answered: these can become overdue
TEXT_MIN, TEXT_MAX = 10, 2000
CONTACT_MAX = 100
ANSWER_MIN, ANSWER_MAX = 2, 4000
# Pillow reads only these formats; anything else (GIF, SVG, text, PDF...) is refused
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS = 40_000_000
MAX_SIDE = 4096  # a stored photo's longer side at most (a 12 MP phone photo is 4000)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PAGE_SIZE = 100  # inbox entries a page


def new_tracking() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def shown(tracking: str) -> str:
    """The code as people read it aloud and type it: PGD-XXXXX-XXXXX."""
    return f"{PREFIX}-{tracking[:5]}-{tracking[5:]}"


def parse_tracking(raw: str) -> str | None:
    """The stored form of a typed code (any case, spaces and dashes, with or without PGD), or
    None when it cannot be one."""
    compact = re.sub(r"[\s-]", "", raw[:40]).upper()
    if len(compact) == len(PREFIX) + CODE_LENGTH and compact.startswith(PREFIX):
        compact = compact[len(PREFIX):]
    if len(compact) != CODE_LENGTH or any(ch not in ALPHABET for ch in compact):
        return None
    return compact


def clean_text(raw: str, name: str, lo: int, hi: int) -> str:
    """Plain text as sent, trimmed, line ends as \\n: 400 `invalid_field` for control characters
    (PostgreSQL takes no NUL) or a length outside lo..hi."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError("invalid_field", name) from None
    if CONTROL.search(text):
        raise ApiError("invalid_field", name)
    if not lo <= len(text) <= hi:
        raise ApiError("invalid_field", t("complaint.error.length", field=name, lo=lo, hi=hi))
    return text


def clean_photo(data: bytes, max_bytes: int) -> tuple[bytes, str]:
    """A photo as it is stored, and its media type read from its content: 413 past
    `max_bytes`, 415 for anything but JPEG, PNG or WebP (whatever its name or declared type
    says), 400 for a broken one. It is decoded and encoded again in its own format with none
    of its metadata (EXIF with the camera, the time and GPS position; XMP; PNG text chunks),
    turned upright first by its EXIF orientation and made at most MAX_SIDE pixels on its longer
    side; only the colour profile is kept."""
    if len(data) > max_bytes:
        raise ApiError("payload_too_large", t("error.detail.max_kb", kb=max_bytes // 1024))
    try:
        with Image.open(io.BytesIO(data), formats=list(PHOTO_TYPES)) as image:
            kind = image.format or ""
            kind = "JPEG" if kind == "MPO" else kind  # a phone's JPEG with more pictures in it
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ApiError("invalid_field", message=t("complaint.error.photo_unreadable"))
            image.verify()
        if kind not in PHOTO_TYPES:
            raise ApiError("unsupported_media_type", message=t("complaint.error.photo_kind"))
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            if kind == "JPEG":  # decoded at 1/2, 1/4 or 1/8 of its size when that is enough
                image.draft(image.mode, _stored_size(width, height))
            image.load()
            return _reencode(image, kind), PHOTO_TYPES[kind]
    except UnidentifiedImageError:
        raise ApiError("unsupported_media_type", message=t("complaint.error.photo_kind")) from None
    except ApiError:
        raise
    except Exception:  # Pillow's decoders raise many kinds (OSError, SyntaxError, ValueError...)
        raise ApiError("invalid_field", message=t("complaint.error.photo_unreadable")) from None


def _stored_size(width: int, height: int) -> tuple[int, int]:
    """The size a `width` x `height` photo is stored at: its longer side at most MAX_SIDE."""
    scale = min(1.0, MAX_SIDE / max(width, height, 1))
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _reencode(image: Image.Image, kind: str) -> bytes:
    """`image` upright, encoded as `kind` with nothing of its metadata but the colour profile
    (and a palette's transparency)."""
    keep = {name: image.info[name] for name in ("icc_profile", "transparency")
            if name in image.info}
    ImageOps.exif_transpose(image, in_place=True)  # no second copy of a decoded 40 MP photo
    image.info = {}
    image.thumbnail((MAX_SIDE, MAX_SIDE))  # only ever smaller, its aspect kept
    options: dict[str, Any] = {key: value for key, value in keep.items() if value is not None}
    if kind == "JPEG":
        options.pop("transparency", None)
        options.update(quality=90, optimize=True)
    elif kind == "WEBP":
        options.pop("transparency", None)
        options.update(quality=90)
    out = io.BytesIO()
    image.save(out, format=kind, **options)
    return out.getvalue()


# --- the service level ---------------------------------------------------------------------

def due_day(created: date, rules: Complaints, holidays: Iterable[date] = ()) -> date:
    """The last day an answer is on time: `answer_days` working days (Monday to Friday, not a
    site holiday) after the day it came in, or calendar days when `working_days` is false."""
    if not rules.working_days:
        return created + timedelta(days=rules.answer_days)
    off = frozenset(holidays)
    day, left = created, rules.answer_days
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            left -= 1
    return day


def local_day(ms: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz).date()


def local_iso(ms: int | None, tz: ZoneInfo) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Timing:
    """A complaint's age and service level on `today`."""

    age_days: int
    due: date
    overdue: bool            # answered (or closed) after its due day, or open past it
    days_to_answer: float | None


def timing(row: Any, site: SiteConfig, today: date) -> Timing:
    created = date.fromisoformat(row.day)
    due = due_day(created, site.complaints, site.holidays)
    handled = row.answered_ms if row.answered_ms is not None else row.closed_ms
    late = today > due if handled is None else local_day(handled, site.tz) > due
    to_answer = None if row.answered_ms is None else \
        round((row.answered_ms - row.created_ms) / 86_400_000, 2)
    return Timing((today - created).days, due, late, to_answer)


# --- storage ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewComplaint:
    category: str
    text: str
    contact: str | None = None
    photo: bytes | None = None     # as clean_photo stored it
    photo_type: str | None = None
    ticket_day: str | None = None
    ticket_code: str | None = None


def create(db: Engine, site: SiteConfig, new: NewComplaint, now: datetime) -> str:
    """Store a complaint (and its photo) and return its tracking code."""
    now_ms = int(now.timestamp() * 1000)
    day = now.astimezone(site.tz).date().isoformat()
    for _ in range(5):
        tracking = new_tracking()
        try:
            with db.begin() as connection:
                ident = connection.execute(insert(complaints).values(
                    site=site.id, tracking=tracking, created_ms=now_ms, day=day,
                    category=new.category, text=new.text, contact=new.contact,
                    has_photo=new.photo is not None, ticket_day=new.ticket_day,
                    ticket_code=new.ticket_code, status="baru", updated_ms=now_ms,
                ).returning(complaints.c.id)).scalar_one()
                if new.photo is not None:
                    connection.execute(insert(complaint_photos).values(
                        complaint_id=ident, media_type=new.photo_type, data=new.photo))
                _note(connection, ident, now_ms, "dikirim", None)
            return tracking
        except IntegrityError:  # the same code drawn twice: draw again
            continue
    raise ApiError("internal")


def _note(connection: Connection, ident: int, at_ms: int, action: str,
          detail: str | None) -> None:
    connection.execute(insert(complaint_notes).values(complaint_id=ident, at_ms=at_ms,
                                                      action=action, detail=detail))


def _row(connection: Connection, site_id: str, tracking: str) -> Any:
    return connection.execute(select(complaints).where(
        complaints.c.site == site_id, complaints.c.tracking == tracking)).first()


def category_name(site: SiteConfig, ident: str) -> str:
    found = site.complaints.category(ident)
    return found.name if found else ident


def tenant_name(site: SiteConfig, ident: str | None) -> str | None:
    if ident is None:
        return None
    tenant = site.tenant(ident)
    return tenant.name if tenant else ident


def status_name(status: str) -> str:
    return t(STATUS_NAMES[status])


def visitor_view(db: Engine, site: SiteConfig, tracking: str) -> dict[str, Any] | None:
    """What the visitor with the code sees: status, category, when, due day, the answer. Never
    the contact, the photo, the text of the office's notes or another complaint."""
    with db.connect() as connection:
        row = _row(connection, site.id, tracking)
    if row is None:
        return None
    due = due_day(date.fromisoformat(row.day), site.complaints, site.holidays)
    return {
        "tracking": shown(row.tracking),
        "status": row.status,
        "status_name": status_name(row.status),
        "category": row.category,
        "category_name": category_name(site, row.category),
        "created_at": local_iso(row.created_ms, site.tz),
        "due": due.isoformat(),
        "answer": row.answer,
        "answered_at": local_iso(row.answered_ms, site.tz),
        "closed_at": local_iso(row.closed_ms, site.tz),
    }


def _office_row(site: SiteConfig, row: Any, today: date) -> dict[str, Any]:
    timed = timing(row, site, today)
    return {
        "tracking": shown(row.tracking),
        "status": row.status,
        "status_name": status_name(row.status),
        "category": row.category,
        "category_name": category_name(site, row.category),
        "created_at": local_iso(row.created_ms, site.tz),
        "day": row.day,
        "text": row.text,
        "contact": row.contact,
        "has_photo": bool(row.has_photo),
        "ticket": None if row.ticket_code is None else
        {"day": row.ticket_day, "code": row.ticket_code},
        "tenant": row.tenant,
        "tenant_name": tenant_name(site, row.tenant),
        "answer": row.answer,
        "assigned_at": local_iso(row.assigned_ms, site.tz),
        "answered_at": local_iso(row.answered_ms, site.tz),
        "closed_at": local_iso(row.closed_ms, site.tz),
        "age_days": timed.age_days,
        "due": timed.due.isoformat(),
        "overdue": timed.overdue,
    }


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    tenant: str | None = None       # a tenant id, or "-" for none assigned yet
    overdue: bool = False
    page: int = 1                   # PAGE_SIZE entries a page, newest first


@dataclass(frozen=True)
class Inbox:
    """One page of the inbox and how many entries the filters match in all."""

    rows: list[dict[str, Any]]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def parse_filters(site: SiteConfig, params: Any) -> Filters:
    """`status`, `tenant` (or "-"), `overdue=1` and `page` (1, 2, ...) of a query string; 400
    `invalid_parameter` for unknown values."""
    status = params.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError("invalid_parameter", "status")
    tenant = params.get("tenant") or None
    if tenant is not None and tenant != "-" and site.tenant(tenant) is None:
        raise ApiError("invalid_parameter", "tenant")
    overdue = params.get("overdue", "") in ("1", "true")
    raw_page = params.get("page") or "1"
    if not (raw_page.isascii() and raw_page.isdigit() and 1 <= len(raw_page) <= 6
            and int(raw_page) >= 1):
        raise ApiError("invalid_parameter", "page")
    return Filters(status, tenant, overdue, int(raw_page))


def overdue_since(site: SiteConfig, today: date) -> date:
    """The last day a complaint may have come in to be overdue `today` if still unanswered:
    the latest day whose due day is before today. Due days never go back as the day it came
    in moves on, so the open complaints that are overdue are exactly those of this day or
    earlier (a condition the database can apply, so paging and counts hold every one)."""
    day = today - timedelta(days=1)
    while due_day(day, site.complaints, site.holidays) >= today:
        day -= timedelta(days=1)
    return day


def _where(query: Any, site: SiteConfig, filters: Filters, today: date) -> Any:
    query = query.where(complaints.c.site == site.id)
    if filters.status:
        query = query.where(complaints.c.status == filters.status)
    if filters.tenant == "-":
        query = query.where(complaints.c.tenant.is_(None))
    elif filters.tenant:
        query = query.where(complaints.c.tenant == filters.tenant)
    if filters.overdue:  # `day` is stored as YYYY-MM-DD: it sorts as the dates do
        query = query.where(complaints.c.status.in_(OPEN_STATUSES),
                            complaints.c.day <= overdue_since(site, today).isoformat())
    return query


def office_list(db: Engine, site: SiteConfig, filters: Filters, today: date) -> Inbox:
    """The inbox, newest first, PAGE_SIZE entries of page `filters.page`, with each entry's
    age and service level, and how many the filters match in all."""
    query = _where(select(complaints), site, filters, today)
    query = query.order_by(complaints.c.created_ms.desc(), complaints.c.id.desc()) \
        .limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE)
    counted = _where(select(func.count()).select_from(complaints), site, filters, today)
    with db.connect() as connection:
        rows = [_office_row(site, row, today) for row in connection.execute(query)]
        total = int(connection.execute(counted).scalar_one())
    return Inbox(rows, total, filters.page)


def overdue_count(db: Engine, site: SiteConfig, today: date) -> int:
    """Open complaints past their due day, all of them (the /admin dashboard's flag)."""
    counted = _where(select(func.count()).select_from(complaints), site,
                     Filters(overdue=True), today)
    with db.connect() as connection:
        return int(connection.execute(counted).scalar_one())


def office_detail(db: Engine, site: SiteConfig, tracking: str, today: date
                  ) -> dict[str, Any] | None:
    """One complaint for the office: everything, with its notes (oldest first)."""
    with db.connect() as connection:
        row = _row(connection, site.id, tracking)
        if row is None:
            return None
        notes = connection.execute(select(complaint_notes).where(
            complaint_notes.c.complaint_id == row.id).order_by(complaint_notes.c.id)).all()
    out = _office_row(site, row, today)
    out["notes"] = [{"at": local_iso(n.at_ms, site.tz), "action": n.action,
                     "action_name": t(NOTE_NAMES[n.action]), "detail": n.detail}
                    for n in notes]
    return out


def photo(db: Engine, site: SiteConfig, tracking: str) -> tuple[str, bytes] | None:
    with db.connect() as connection:
        found = connection.execute(
            select(complaint_photos.c.media_type, complaint_photos.c.data)
            .join(complaints, complaints.c.id == complaint_photos.c.complaint_id)
            .where(complaints.c.site == site.id, complaints.c.tracking == tracking)).first()
    return None if found is None else (str(found.media_type), bytes(found.data))


def _change(db: Engine, site: SiteConfig, tracking: str, now: datetime, action: str,
            detail: str | None, values: Any) -> None:
    """Apply one office action: 404 `unknown_complaint`, 409 `complaint_closed` once closed."""
    now_ms = int(now.timestamp() * 1000)
    with db.begin() as connection:
        row = _row(connection, site.id, tracking)
        if row is None:
            raise ApiError("unknown_complaint")
        if row.status == "ditutup":
            raise ApiError("complaint_closed")
        changes = values(row, now_ms)
        connection.execute(update(complaints).where(complaints.c.id == row.id)
                           .values(**changes, updated_ms=now_ms))
        _note(connection, row.id, now_ms, action, detail)


def assign(db: Engine, site: SiteConfig, tracking: str, tenant: str, now: datetime) -> None:
    """Assign to a tenant: a new complaint becomes `diproses`."""
    if site.tenant(tenant) is None:
        raise ApiError("invalid_field", "tenant")
    _change(db, site, tracking, now, "ditugaskan", tenant, lambda row, ms: {
        "tenant": tenant, "assigned_ms": ms,
        "status": "diproses" if row.status == "baru" else row.status})


def answer(db: Engine, site: SiteConfig, tracking: str, text: str, now: datetime) -> None:
    """Answer (or correct the answer): the visitor sees it; the first answer's time counts for
    the service level."""
    _change(db, site, tracking, now, "dijawab", text, lambda row, ms: {
        "answer": text, "status": "dijawab",
        "answered_ms": row.answered_ms if row.answered_ms is not None else ms})


def close(db: Engine, site: SiteConfig, tracking: str, now: datetime) -> None:
    _change(db, site, tracking, now, "ditutup", None,
            lambda row, ms: {"status": "ditutup", "closed_ms": ms})
