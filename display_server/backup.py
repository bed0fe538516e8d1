"""`antrian backup` and `antrian restore`: everything a site needs to come back, in one file.

The file is a gzipped tar:

- `manifest.json`: format, site id, when, antrian's and Redis's versions, the archive's schema
  revision and last archived event, and the SHA-256 of every other member;
- `redis.jsonl`: every key of the site (they share the hash tag `{site}`, so one slot) as
  `DUMP` with its remaining `PTTL`, read by one Lua script: one atomic cut of the live state
  (the archiver's lease is left out); on Sentinel and Cluster, read from (and restored to) the
  one server holding that slot: the named primary, the slot's master (`site_redis`);
- the archive: SQLite through the online backup API (`archive.sqlite3`), PostgreSQL as the
  rows of the site in antrian's tables read in one REPEATABLE READ transaction
  (`archive/<table>.jsonl`);
- `secret` (the data dir's site secret) and `config/<name>` (the site TOML in use).

The archive is read first and Redis second: Redis may then hold events the archive copy has
not got yet, never the other way round. A restore puts the archiver's consumer group back on
the archive's last event, so those events are archived again (writes are idempotent on the
event id). A restore refuses a target that already holds the site (Redis keys, secret, archive
rows) unless `--force`, checks every checksum before it writes anything, creates the archive's
schema with the migrations and inserts the rows in foreign-key order.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import os
import re
import sqlite3
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import IO, Any, cast

import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException
from redis.sentinel import Sentinel
from sqlalchemy import Connection, Engine, LargeBinary, Table, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from display_server.archive import db, tables
from display_server.config import SiteConfig, config_path, load_config
from display_server.keys import SiteKeys
from display_server.paths import data_dir
from display_server.redis_local import LocalRedis, RedisNotFoundError, default_url
from display_server.store import CLUSTER_SCHEME, SENTINEL_SCHEME, RedisUrl, parse_redis_url
from display_server.tokens import SECRET_FILE
from texts import t
from texts.formats import number

FORMAT = 1
MANIFEST = "manifest.json"
REDIS_MEMBER = "redis.jsonl"
SQLITE_MEMBER = "archive.sqlite3"
ROWS_DIR = "archive/"
SECRET_MEMBER = "secret"
CONFIG_DIR = "config/"
RESTORED_CONFIG = "site.toml"
BATCH = 1000
NAME = re.compile(r"antrian-(?P<site>[a-z0-9_-]+)-(?P<stamp>\d{8}T\d{6}Z)\.tar\.gz")

# Every key of the site with its remaining time to live and its DUMP, in one atomic step. The
# site's keys share one hash slot, so KEYS[1] (a key of the site) routes it on a cluster too.
SNAPSHOT_SCRIPT = """
local found = redis.call('KEYS', ARGV[1])
local out = {}
for _, key in ipairs(found) do
  if key ~= ARGV[2] then
    out[#out + 1] = key
    out[#out + 1] = redis.call('PTTL', key)
    out[#out + 1] = redis.call('DUMP', key)
  end
end
return out
"""


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the technician."""


@dataclass
class Summary:
    """What a backup holds: for the command's one line and the tests."""

    path: Path
    keys: int
    rows: int
    size: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _version() -> str:
    try:
        return package_metadata.version("antrian")
    except package_metadata.PackageNotFoundError:
        return "unknown"


# --- the site's Redis server -------------------------------------------------------------------


@contextlib.contextmanager
def site_redis(url: str, site_id: str) -> Iterator[redis.Redis]:
    """A client of the one Redis server that holds the site's keys: the URL's Redis; on
    `redis+sentinel://`, the primary the sentinels name now; on `redis+cluster://`, the master
    of the slot of the site's hash tag. Every key of the site is in that slot, so that node's
    SCAN, one Lua script and one MULTI/EXEC there read or write all of them (a slot moved
    while it runs answers MOVED: the command fails and can be run again)."""
    if url.startswith((CLUSTER_SCHEME + "://", SENTINEL_SCHEME + "://")):
        try:
            parsed = parse_redis_url(url)
        except ValueError:
            raise BackupError(t("backup.bad_redis_url", url=url.split("@")[-1])) from None
        host, port = _site_node(parsed, site_id, url)
        client = redis.Redis(host=host, port=port, db=parsed.db, username=parsed.username,
                             password=parsed.password, socket_connect_timeout=5)
    else:
        client = redis.Redis.from_url(url)
    try:
        yield client
    finally:
        client.close()


def _site_node(parsed: RedisUrl, site_id: str, url: str) -> tuple[str, int]:
    """(host, port) of the primary or cluster master that holds the site's slot now."""
    try:
        if parsed.scheme == SENTINEL_SCHEME:
            sentinel = Sentinel(list(parsed.nodes), socket_timeout=5,  # type: ignore[no-untyped-call]
                                socket_connect_timeout=5)
            try:
                host, port = sentinel.discover_master(parsed.service)  # type: ignore[no-untyped-call]
            finally:
                for client in sentinel.sentinels:
                    client.close()
            return str(host), int(port)
        nodes = [ClusterNode(h, p) for h, p in parsed.nodes]  # type: ignore[no-untyped-call]
        cluster = RedisCluster(startup_nodes=nodes, username=parsed.username,
                               password=parsed.password, socket_timeout=5,
                               socket_connect_timeout=5)
        try:
            node = cluster.get_node_from_key(  # type: ignore[no-untyped-call]
                SiteKeys(site_id)("events"))
            return str(node.host), int(node.port)
        finally:
            cluster.close()
    except (redis.RedisError, RedisClusterException) as exc:
        raise BackupError(t("backup.redis_unreachable", url=url.split("@")[-1],
                            error=exc)) from None


# --- reading the live site --------------------------------------------------------------------


def snapshot_redis(client: redis.Redis, site_id: str, out: IO[str]) -> int:
    """Write every key of the site as one JSON line (`k`, `ttl` in ms or -1, `dump`, base64);
    the number of keys. One Lua script: no action lands halfway through."""
    keys = SiteKeys(site_id)
    reply = cast(list[Any], client.eval(SNAPSHOT_SCRIPT, 1, keys("events"),
                                        keys.prefix + "*", keys("archiver")))
    count = 0
    for i in range(0, len(reply), 3):
        key, ttl, dump = reply[i], int(reply[i + 1]), reply[i + 2]
        if dump is None:
            continue
        out.write(json.dumps({"k": _b64(key), "ttl": ttl, "dump": _b64(dump)}) + "\n")
        count += 1
    return count


def _site_rows(connection: Connection, table: Table, site_id: str) -> Any:
    """The rows of the site in `table`, in primary-key order."""
    query = select(table).where(_of_site(table, site_id)).order_by(*table.primary_key.columns)
    return connection.execution_options(stream_results=True, yield_per=BATCH).execute(query)


def _revision(connection: Connection) -> str | None:
    try:
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    except SQLAlchemyError:
        return None
    return None if row is None else str(row[0])


def _last_event(connection: Connection, site_id: str) -> str | None:
    state = tables.archiver_state
    try:
        row = connection.execute(select(state.c.last_event_id)
                                 .where(state.c.site == site_id)).first()
    except SQLAlchemyError:
        return None
    return None if row is None else str(row[0])


def _encode_row(table: Table, row: Any) -> dict[str, Any]:
    values = dict(row._mapping)
    for column in table.columns:
        if isinstance(column.type, LargeBinary) and values.get(column.name) is not None:
            values[column.name] = _b64(bytes(values[column.name]))
    return values


def snapshot_archive(url: str, site_id: str, work: Path) -> dict[str, Any]:
    """Copy the archive into `work`: SQLite with the online backup API, PostgreSQL as the
    site's rows of every table in one REPEATABLE READ, read-only transaction. What the manifest
    says of it (kind, schema revision, last archived event, rows per table)."""
    engine = db.engine(url)
    try:
        if engine.dialect.name == "sqlite":
            copy = work / SQLITE_MEMBER
            source = engine.raw_connection()
            try:
                target = sqlite3.connect(copy)
                try:
                    cast(sqlite3.Connection, source.driver_connection).backup(target)
                finally:
                    target.close()
            finally:
                source.close()
            _keep_only_site(copy, site_id)
            return _describe_copy(copy, site_id)
        return _export_rows(engine, site_id, work)
    finally:
        engine.dispose()


def _keep_only_site(copy: Path, site_id: str) -> None:
    """Delete the rows of other sites from the copy of an archive that several sites share
    (one process per site on one Redis, one SQLite file), then VACUUM so that none of their
    bytes stay in free pages: a site's backup holds the site and nothing else."""
    copied = db.engine(f"sqlite:///{copy}")
    try:
        with copied.connect() as connection:
            others = 0
            for table in reversed(_existing(connection)):
                others += connection.execute(
                    table.delete().where(~_of_site(table, site_id))).rowcount
            connection.commit()
            if others:
                connection.exec_driver_sql("VACUUM")
    finally:
        copied.dispose()


def _describe_copy(copy: Path, site_id: str) -> dict[str, Any]:
    copied = db.engine(f"sqlite:///{copy}")
    try:
        with copied.connect() as connection:
            counts = {table.name: connection.execute(
                select(func.count()).select_from(table).where(_of_site(table, site_id))
            ).scalar_one() for table in _existing(connection)}
            return {"kind": "sqlite", "revision": _revision(connection),
                    "last_event_id": _last_event(connection, site_id), "rows": counts}
    finally:
        copied.dispose()


def _existing(connection: Connection) -> list[Table]:
    """antrian's tables that this database has, in foreign-key order."""
    from sqlalchemy import inspect

    names = set(inspect(connection).get_table_names())
    return [table for table in tables.metadata.sorted_tables if table.name in names]


def _export_rows(engine: Engine, site_id: str, work: Path) -> dict[str, Any]:
    (work / ROWS_DIR).mkdir()
    counts: dict[str, int] = {}
    snapshot = engine.execution_options(isolation_level="REPEATABLE READ")
    with snapshot.connect() as connection, connection.begin():
        connection.execute(text("SET TRANSACTION READ ONLY"))
        revision = _revision(connection)
        last = _last_event(connection, site_id)
        for table in _existing(connection):
            count = 0
            with (work / f"{ROWS_DIR}{table.name}.jsonl").open("w", encoding="utf-8") as out:
                for row in _site_rows(connection, table, site_id):
                    out.write(json.dumps(_encode_row(table, row)) + "\n")
                    count += 1
            counts[table.name] = count
    return {"kind": "rows", "revision": revision, "last_event_id": last, "rows": counts}


# --- writing the file -------------------------------------------------------------------------


@dataclass
class Source:
    """Where the site lives now."""

    site: SiteConfig
    config_file: Path | None
    directory: Path
    redis_url: str
    database_url: str


def backup(source: Source, out: Path, *, now: datetime | None = None) -> Summary:
    """Write the backup of `source` to `out` (through a temporary file renamed at the end,
    readable by its owner only: it holds the secret)."""
    created = (now or datetime.now(UTC)).astimezone(UTC)
    site_id = source.site.id
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".antrian-backup-", dir=out.parent) as tmp:
        work = Path(tmp)
        archive = snapshot_archive(source.database_url, site_id, work)  # first: see the docstring
        with site_redis(source.redis_url, site_id) as client:
            with (work / REDIS_MEMBER).open("w", encoding="ascii") as handle:
                keys = snapshot_redis(client, site_id, handle)
            redis_version = str(client.info("server")["redis_version"])
        members: list[tuple[str, Path]] = [(REDIS_MEMBER, work / REDIS_MEMBER)]
        if archive["kind"] == "sqlite":
            members.append((SQLITE_MEMBER, work / SQLITE_MEMBER))
        else:
            members += [(f"{ROWS_DIR}{name}.jsonl", work / f"{ROWS_DIR}{name}.jsonl")
                        for name in archive["rows"]]
        secret = source.directory / SECRET_FILE
        if secret.is_file():
            members.append((SECRET_MEMBER, secret))
        config_name = None
        if source.config_file is not None:
            config_name = source.config_file.name
            members.append((CONFIG_DIR + config_name, source.config_file))
        manifest = {
            "format": FORMAT, "site": site_id, "created": created.isoformat(),
            "antrian": _version(), "redis": redis_version, "keys": keys,
            "archive": archive, "config": config_name,
            "secret": "file" if secret.is_file() else ("config" if source.site.secret else None),
            "files": {name: _sha256(path) for name, path in members},
        }
        partial = work / "backup.tar.gz"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz",
                                                         compresslevel=6) as tar:
            body = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), int(created.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(body))
            for name, path in members:
                info = tar.gettarinfo(str(path), arcname=name)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mode = 0o600
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
        os.replace(partial, out)
    return Summary(out, keys, sum(archive["rows"].values()), out.stat().st_size)


def backup_name(site_id: str, now: datetime) -> str:
    return f"antrian-{site_id}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.tar.gz"


def prune(directory: Path, site_id: str, keep: int) -> list[Path]:
    """Delete the site's backups in `directory` but the newest `keep` (by the time in their
    names); the deleted ones."""
    found = sorted((p for p in directory.iterdir()
                    if (m := NAME.fullmatch(p.name)) and m["site"] == site_id),
                   key=lambda p: p.name)
    gone = found[:-keep] if keep > 0 else found
    for path in gone:
        path.unlink()
    return gone


# --- reading the file back --------------------------------------------------------------------


@dataclass
class Backup:
    """An opened backup whose checksums held."""

    manifest: dict[str, Any]
    files: dict[str, bytes]

    @property
    def site_id(self) -> str:
        return str(self.manifest["site"])


def open_backup(path: Path) -> Backup:
    """Read the backup and check its manifest and every member's checksum; BackupError with
    an Indonesian message if it is not a backup, broken or changed."""
    try:
        with tarfile.open(path, mode="r:*") as tar:
            contents: dict[str, bytes] = {}
            for member in tar:
                if not member.isfile():
                    continue
                handle = tar.extractfile(member)
                if handle is not None:
                    contents[member.name] = handle.read()
    except FileNotFoundError:
        raise BackupError(t("backup.not_found", path=path)) from None
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise BackupError(t("backup.corrupt", path=path, error=exc)) from None
    try:
        manifest = json.loads(contents[MANIFEST])
        files = dict(manifest["files"])
        site_id = str(manifest["site"])
        form = int(manifest["format"])
    except (KeyError, ValueError, TypeError):
        raise BackupError(t("backup.no_manifest", path=path)) from None
    if form != FORMAT:
        raise BackupError(t("backup.format", path=path, format=form, known=FORMAT))
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", site_id):
        raise BackupError(t("backup.no_manifest", path=path))
    for name, digest in files.items():
        data = contents.get(name)
        if data is None:
            raise BackupError(t("backup.missing_member", path=path, name=name))
        if hashlib.sha256(data).hexdigest() != digest:
            raise BackupError(t("backup.checksum", path=path, name=name))
    return Backup(manifest, {name: contents[name] for name in files})


# --- restoring --------------------------------------------------------------------------------


@dataclass
class Target:
    """Where the site is put back."""

    directory: Path
    redis_url: str
    database_url: str
    config_out: Path


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(db.alembic_config())
    return {script.revision for script in scripts.walk_revisions()}


def _site_key_count(client: redis.Redis, site_id: str) -> int:
    keys = SiteKeys(site_id)
    lease = keys("archiver").encode()
    return sum(1 for key in client.scan_iter(match=keys.prefix + "*", count=1000)
               if key != lease)


def _archive_rows(url: str, site_id: str) -> int:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        return 0  # not even created: empty (and not created here)
    engine = db.engine(url)
    try:
        with engine.connect() as connection:
            return sum(connection.execute(select(func.count()).select_from(table)
                                          .where(_of_site(table, site_id))).scalar_one()
                       for table in _existing(connection))
    finally:
        engine.dispose()


def _of_site(table: Table, site_id: str) -> Any:
    """The condition on `table` of the site's rows (a complaint's photos and notes by the
    complaint)."""
    if "site" in table.c:
        return table.c.site == site_id
    ids = select(tables.complaints.c.id).where(tables.complaints.c.site == site_id)
    return table.c.complaint_id.in_(ids)


def check_target(found: Backup, target: Target, client: redis.Redis) -> list[str]:
    """Why the target is not empty for this site (Indonesian, one line each); [] when it is."""
    site_id = found.site_id
    problems = []
    if (count := _site_key_count(client, site_id)):
        problems.append(t("restore.redis_not_empty", site=site_id, count=count))
    if (target.directory / SECRET_FILE).exists() and SECRET_MEMBER in found.files:
        problems.append(t("restore.secret_exists", path=target.directory / SECRET_FILE))
    if (rows := _archive_rows(target.database_url, site_id)):
        problems.append(t("restore.archive_not_empty", site=site_id, count=rows))
    config = _config_member(found)
    if config is not None and target.config_out.exists() \
            and target.config_out.read_bytes() != found.files[config]:
        problems.append(t("restore.config_exists", path=target.config_out))
    return problems


def _config_member(found: Backup) -> str | None:
    return next((name for name in found.files if name.startswith(CONFIG_DIR)), None)


def _backup_rows(found: Backup, work: Path) -> Iterator[tuple[Table, Iterator[dict[str, Any]]]]:
    """The archive's rows in the backup, table by table in foreign-key order."""
    archive = found.manifest["archive"]
    if archive["kind"] == "sqlite":
        copy = work / SQLITE_MEMBER
        copy.write_bytes(found.files[SQLITE_MEMBER])
        engine = db.engine(f"sqlite:///{copy}")
        try:
            with engine.connect() as connection:
                for table in _existing(connection):
                    rows = _site_rows(connection, table, found.site_id)
                    yield table, (dict(row._mapping) for row in rows)
        finally:
            engine.dispose()
        return
    for table in tables.metadata.sorted_tables:
        member = f"{ROWS_DIR}{table.name}.jsonl"
        if member in found.files:
            yield table, _decode_rows(table, found.files[member])


def _decode_rows(table: Table, data: bytes) -> Iterator[dict[str, Any]]:
    binary = [c.name for c in table.columns if isinstance(c.type, LargeBinary)]
    for line in data.decode("utf-8").splitlines():
        row = json.loads(line)
        for name in binary:
            if row.get(name) is not None:
                row[name] = base64.b64decode(row[name])
        yield row


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def restore_archive(found: Backup, url: str, *, force: bool) -> int:
    """Migrate the target archive to the newest schema, then insert the backup's rows of the
    site in foreign-key order in one transaction (after deleting the site's rows with
    `force`); the rows inserted."""
    db.upgrade(url)
    engine = db.engine(url)
    count = 0
    try:
        with tempfile.TemporaryDirectory(prefix="antrian-restore-") as tmp, \
                engine.begin() as connection:
            if force:
                for table in reversed(tables.metadata.sorted_tables):
                    connection.execute(table.delete().where(_of_site(table, found.site_id)))
            for table, rows in _backup_rows(found, Path(tmp)):
                known = set(table.c.keys())
                for batch in _batches(rows):
                    connection.execute(table.insert(),
                                       [{k: v for k, v in row.items() if k in known}
                                        for row in batch])
                    count += len(batch)
            if connection.dialect.name == "postgresql":
                for table in tables.metadata.sorted_tables:
                    if table.autoincrement_column is not None:
                        column = table.autoincrement_column.name
                        connection.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                            f"COALESCE(MAX({column}), 1), MAX({column}) IS NOT NULL) "
                            f"FROM {table.name}"))
    finally:
        engine.dispose()
    return count


def restore_redis(found: Backup, client: redis.Redis, *, force: bool) -> int:
    """Put the site's keys back (RESTORE with their remaining time to live) in one
    transaction, then set the archiver's consumer group to the archive's last event, so the
    events the archive copy lacks are archived again; the keys restored."""
    keys = SiteKeys(found.site_id)
    pipe = client.pipeline(transaction=True)
    if force:
        for key in client.scan_iter(match=keys.prefix + "*", count=1000):
            pipe.delete(key)
    count = 0
    for line in found.files[REDIS_MEMBER].decode("ascii").splitlines():
        entry = json.loads(line)
        ttl = int(entry["ttl"])
        if ttl == -2:  # gone while it was read
            continue
        pipe.restore(base64.b64decode(entry["k"]), max(ttl, 0),
                     base64.b64decode(entry["dump"]), replace=force)
        count += 1
    pipe.execute()
    stream = keys("events")
    groups = client.xinfo_groups(stream) if client.exists(stream) else []
    if any(_text(group["name"]) == "archiver" for group in groups):
        last = found.manifest["archive"].get("last_event_id") or "0"
        client.xgroup_setid(stream, "archiver", last)
    return count


def restore(found: Backup, target: Target, *, force: bool = False) -> dict[str, Any]:
    """Put the backup back: refuses (BackupError) a target that already holds the site unless
    `force`; then the archive, the Redis keys, the secret, the config."""
    revision = found.manifest["archive"].get("revision")
    if revision is not None and revision not in _known_revisions():
        raise BackupError(t("restore.unknown_revision", revision=revision))
    with site_redis(target.redis_url, found.site_id) as client:
        problems = check_target(found, target, client)
        if problems and not force:
            raise BackupError("\n".join([*problems, t("restore.use_force")]))
        target.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        rows = restore_archive(found, target.database_url, force=force)
        keys = restore_redis(found, client, force=force)
    if SECRET_MEMBER in found.files:
        _write_private(target.directory / SECRET_FILE, found.files[SECRET_MEMBER])
    config = _config_member(found)
    if config is not None:
        target.config_out.parent.mkdir(parents=True, exist_ok=True)
        _write_private(target.config_out, found.files[config])
    return {"keys": keys, "rows": rows, "config": target.config_out if config else None}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _write_private(path: Path, data: bytes) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


# --- the commands -----------------------------------------------------------------------------


@contextlib.contextmanager
def _redis_url(explicit: str | None, directory: Path) -> Iterator[str]:
    """The site's Redis as `antrian serve` finds it: the flag, ANTRIAN_REDIS_URL, or the local
    Redis of the data dir: the running one's socket, else started here (on its AOF) and
    stopped after."""
    if explicit or os.environ.get("ANTRIAN_REDIS_URL") \
            or (directory / "redis" / "redis.sock").exists():
        yield default_url(explicit, directory)
        return
    local = LocalRedis(directory)
    try:
        yield local.start()
    finally:
        local.stop()


def _backup_command(args: argparse.Namespace) -> int:
    if args.keep is not None and (args.out_dir is None or args.keep < 1):
        print("antrian:", t("backup.keep_needs_dir"), file=sys.stderr)
        return 2
    site = load_config(args.config)
    directory = data_dir(args.data_dir, create=False)
    chosen = config_path(args.config)
    now = datetime.now(UTC)
    out = Path(args.out) if args.out else Path(args.out_dir) / backup_name(site.id, now)
    try:
        with _redis_url(args.redis_url, directory) as url:
            source = Source(site, Path(chosen).resolve() if chosen else None, directory, url,
                            db.database_url(directory))
            summary = backup(source, out, now=now)
    except (BackupError, db.DatabaseError, RedisNotFoundError) as exc:
        print("antrian:", exc, file=sys.stderr)
        return 2
    except (SQLAlchemyError, OSError, redis.RedisError) as exc:
        print("antrian:", t("backup.failed", error=exc), file=sys.stderr)
        return 1
    print(t("backup.written", path=summary.path, keys=number(summary.keys),
            rows=number(summary.rows), size=number(round(summary.size / 1024))))
    if args.keep is not None:
        for gone in prune(Path(args.out_dir), site.id, args.keep):
            print(t("backup.pruned", path=gone))
    return 0


def _restore_command(args: argparse.Namespace) -> int:
    directory = data_dir(args.data_dir, create=False)
    try:
        found = open_backup(Path(args.file))
        config_out = Path(args.config_out) if args.config_out else directory / RESTORED_CONFIG
        with _redis_url(args.redis_url, directory) as url:
            target = Target(directory, url, db.database_url(directory), config_out)
            done = restore(found, target, force=args.force)
    except (BackupError, db.DatabaseError, RedisNotFoundError) as exc:
        print("antrian:", exc, file=sys.stderr)
        return 2
    except (SQLAlchemyError, OSError, redis.RedisError) as exc:
        print("antrian:", t("restore.failed", error=exc), file=sys.stderr)
        return 1
    print(t("restore.done", site=found.site_id, keys=number(done["keys"]),
            rows=number(done["rows"])))
    if done["config"] is not None:
        print(t("restore.config_written", path=done["config"]))
    return 0


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add `antrian backup` and `antrian restore`."""
    p = sub.add_parser("backup", help=t("backup.help"))
    common(p)
    p.add_argument("--redis-url", help=t("backup.help_redis"))
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", help=t("backup.help_out"))
    where.add_argument("--out-dir", help=t("backup.help_out_dir"))
    p.add_argument("--keep", type=int, help=t("backup.help_keep"))
    p.set_defaults(func=_backup_command)

    r = sub.add_parser("restore", help=t("restore.help"))
    r.add_argument("file", help=t("restore.help_file"))
    r.add_argument("--data-dir", help=t("restore.help_data_dir"))
    r.add_argument("--redis-url", help=t("backup.help_redis"))
    r.add_argument("--config-out", help=t("restore.help_config_out"))
    r.add_argument("--force", action="store_true", help=t("restore.help_force"))
    r.set_defaults(func=_restore_command)
