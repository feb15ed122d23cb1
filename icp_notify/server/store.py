"""Where the service keeps notices, operations and seen webhook signatures.

:class:`NoticeStore` is the small interface the routes use, so a shared database can be added
later; :class:`SqliteStore` is the default: one file in WAL mode, a versioned schema upgraded
by ordered migration steps, idempotency by unique constraints, and every write in a
``BEGIN IMMEDIATE`` transaction behind a lock (readers never block; writers queue instead of
failing with "database is locked", and a busy timeout covers other processes).

Examples
--------
>>> from icp_notify.models import Operation
>>> store = SqliteStore(":memory:")
>>> store.schema_version
3
>>> op = Operation(kind="access_domain", submitted_at="2025-03-01T10:00:00", provider="腾讯云")
>>> saved, created = store.add_operation("team-a", op)
>>> created, store.add_operation("team-a", op)[1], len(store.list_operations("team-a"))
(True, False, 1)
>>> store.close()
"""

from __future__ import annotations

import abc
import base64
import binascii
import datetime as dt
import hashlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from icp_notify.errors import InputError
from icp_notify.models import (
    URGENCY_ORDER,
    Channel,
    Context,
    Operation,
    PriorNotice,
    Report,
    Situation,
    Urgency,
    to_json_dict,
)
from icp_notify.server.outbox import (
    AlertDraft,
    AlertRouter,
    AlertState,
    ClaimedAlert,
    StoredAlert,
)
from icp_notify.server.schemas import Source, StoredNotice, StoredOperation, utcnow


class ReplayError(Exception):
    """A signed webhook's ``(timestamp, sign)`` pair was already accepted.

    Parameters
    ----------
    notice_id : int or None
        The notice the pair was accepted with, when known.
    """

    def __init__(self, notice_id: int | None) -> None:
        self.notice_id = notice_id
        super().__init__(f"signature already used (notice {notice_id})")


def dedupe_key(
    filing: str,
    *,
    message_id: str | None,
    sender: str | None,
    received_at: dt.datetime | None,
    text: str,
) -> str:
    """The idempotency key of a notice within a filing.

    The caller's ``message_id`` when given, else a hash of sender + received_at + text. It is not
    batch's duplicate key, on purpose: the docstring of :mod:`icp_notify.batch.dedupe` says why.

    Parameters
    ----------
    filing : str
        The filing the notice belongs to.
    message_id : str or None
        The caller's id.
    sender : str or None
        The sender.
    received_at : datetime or None
        When it arrived (compared in UTC).
    text : str
        The notice text.

    Returns
    -------
    str
        ``"id:<filing>\\0<message_id>"`` or ``"h:<sha256>"``.

    Examples
    --------
    >>> dedupe_key("f", message_id="m-1", sender=None, received_at=None, text="x")
    'id:f\\x00m-1'
    >>> k = dedupe_key("f", message_id=None, sender="12381", received_at=None, text="x")
    >>> k.startswith("h:"), len(k)
    (True, 66)
    """
    if message_id is not None:
        return f"id:{filing}\x00{message_id}"
    when = "" if received_at is None else received_at.astimezone(dt.UTC).isoformat()
    material = "\x00".join((filing, sender or "", when, text))
    return "h:" + hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewNotice:
    """A notice about to be stored (everything but its id, time and report)."""

    filing: str
    source: Source
    dedupe_key: str
    raw_text: str
    channel: Channel = Channel.UNKNOWN
    sender: str | None = None
    received_at: dt.datetime | None = None
    message_id: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NoticeQuery:
    """Filters of ``GET /v1/notices``; ``situation="ambiguous"`` selects undecided notices."""

    filing: str | None = None
    situation: Situation | str | None = None
    urgency: Urgency | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class FilingSummary:
    """One filing as the web page lists it.

    ``worst_open`` is the most urgent urgency among the filing's open (not acknowledged)
    notices, ``None`` when none is open.
    """

    filing: str
    notices: int
    open_notices: int
    operations: int
    worst_open: Urgency | None
    last_at: dt.datetime | None


MAX_ID = 2**63 - 1
"""The largest row id SQLite can store (a signed 64-bit ``INTEGER``); larger ids are 422."""


def encode_cursor(notice_id: int) -> str:
    """An opaque cursor for the page after ``notice_id`` (newest-first order).

    Parameters
    ----------
    notice_id : int
        The last notice id of the current page.

    Returns
    -------
    str
        URL-safe base64, without padding.

    Examples
    --------
    >>> decode_cursor(encode_cursor(42))
    42
    """
    return base64.urlsafe_b64encode(f"n:{notice_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Read a cursor made by :func:`encode_cursor`.

    Parameters
    ----------
    cursor : str
        The cursor as the client sent it.

    Returns
    -------
    int
        The notice id it stands for.

    Raises
    ------
    InputError
        ``invalid_field`` (where ``cursor``) for anything else.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, _, number = raw.partition(":")
        # ASCII digits only, and within SQLite's INTEGER (a larger id would overflow the query)
        if tag != "n" or not (number.isascii() and number.isdigit()) or len(number) > 19:
            raise ValueError(raw)
        value = int(number)
        if value > MAX_ID:
            raise ValueError(raw)
        return value
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InputError(
            "invalid_field", "not a cursor this service issued", where="cursor"
        ) from None


class NoticeStore(abc.ABC):
    """The storage interface of the service (one implementation per database).

    When :attr:`alert_router` is set, storing a new notice and replacing a report also write
    the alerts the router decides, in the same transaction (the alert outbox).
    """

    alert_router: AlertRouter | None = None
    alert_listener: Callable[[], None] | None = None
    """Called after a transaction that enqueued alerts commits (wakes the delivery worker)."""

    @property
    @abc.abstractmethod
    def schema_version(self) -> int:
        """The schema version the store is at."""

    @abc.abstractmethod
    def find_notice(self, key: str) -> StoredNotice | None:
        """The stored notice with this :func:`dedupe_key`, if any.

        Parameters
        ----------
        key : str
            A :func:`dedupe_key`.

        Returns
        -------
        StoredNotice or None
        """

    @abc.abstractmethod
    def context_for(self, filing: str, *, notices: int = 50) -> Context:
        """The filing's registered operations and its latest ``notices`` stored notices.

        Parameters
        ----------
        filing : str
            The filing.
        notices : int, default 50
            How many of the latest stored notices to include.

        Returns
        -------
        Context
        """

    @abc.abstractmethod
    def context_before(self, notice: StoredNotice, *, notices: int = 50) -> Context:
        """The filing's operations and the ``notices`` notices stored before ``notice``.

        Parameters
        ----------
        notice : StoredNotice
            A stored notice.
        notices : int, default 50
            How many earlier notices to include.

        Returns
        -------
        Context
        """

    @abc.abstractmethod
    def insert_notice(
        self, new: NewNotice, report: Report, *, signature: tuple[int, str] | None = None
    ) -> tuple[StoredNotice, bool]:
        """Store a notice unless its key exists; return ``(record, created)``.

        With ``signature``, the pair is recorded in the same transaction and
        :class:`ReplayError` is raised when it was already used.

        Parameters
        ----------
        new : NewNotice
            What to store.
        report : Report
            Its report.
        signature : tuple of (int, str), optional
            A webhook's ``(timestamp_ms, sign)``.

        Returns
        -------
        tuple of (StoredNotice, bool)
            The record and whether it was created now.

        Raises
        ------
        ReplayError
            When ``signature`` was already used.
        """

    @abc.abstractmethod
    def claim_signature(self, timestamp_ms: int, sign: str) -> bool:
        """Record a webhook signature; ``False`` when it was already used.

        Parameters
        ----------
        timestamp_ms : int
            The webhook's timestamp.
        sign : str
            Its signature.

        Returns
        -------
        bool
        """

    @abc.abstractmethod
    def signature_seen(self, timestamp_ms: int, sign: str) -> int | bool | None:
        """``False`` when unused, else the notice id it was used for (or ``None``).

        Parameters
        ----------
        timestamp_ms : int
            The webhook's timestamp.
        sign : str
            Its signature.

        Returns
        -------
        int, bool or None
        """

    @abc.abstractmethod
    def get_notice(self, notice_id: int) -> StoredNotice | None:
        """One stored notice by id.

        Parameters
        ----------
        notice_id : int
            The notice id.

        Returns
        -------
        StoredNotice or None
        """

    @abc.abstractmethod
    def list_notices(
        self, query: NoticeQuery, *, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[StoredNotice], str | None]:
        """Notices matching ``query``, newest first, and the cursor of the next page.

        Parameters
        ----------
        query : NoticeQuery
            Filters (filing, situation, urgency, time range, …).
        limit : int, default 50
            Page size.
        cursor : str, optional
            From the previous page.

        Returns
        -------
        tuple of (list of StoredNotice, str or None)
            The page and the next cursor (``None`` on the last page).

        Raises
        ------
        InputError
            For a malformed ``cursor``.
        """

    @abc.abstractmethod
    def iter_notices(self) -> Iterator[StoredNotice]:
        """Every stored notice, oldest first (for reclassification).

        Yields
        ------
        StoredNotice
        """

    @abc.abstractmethod
    def update_report(self, notice_id: int, report: Report) -> None:
        """Replace the stored report of a notice (the raw text never changes).

        Parameters
        ----------
        notice_id : int
            The notice id.
        report : Report
            The new report.
        """

    @abc.abstractmethod
    def add_operation(self, filing: str, operation: Operation) -> tuple[StoredOperation, bool]:
        """Register an operation; ``(record, created)`` — registering it again is a no-op.

        Parameters
        ----------
        filing : str
            The filing.
        operation : Operation
            What the user submitted and when.

        Returns
        -------
        tuple of (StoredOperation, bool)
            The record and whether it was created now.
        """

    @abc.abstractmethod
    def list_operations(self, filing: str) -> list[StoredOperation]:
        """The operations of a filing, oldest submission first.

        Parameters
        ----------
        filing : str
            The filing.

        Returns
        -------
        list of StoredOperation
        """

    @abc.abstractmethod
    def acknowledge(self, notice_id: int) -> dt.datetime | None:
        """Mark a notice as acknowledged (no longer open); idempotent.

        Parameters
        ----------
        notice_id : int
            The notice id.

        Returns
        -------
        datetime or None
            When it was (first) acknowledged; ``None`` when there is no such notice.
        """

    @abc.abstractmethod
    def acknowledged(self, filing: str) -> dict[int, dt.datetime]:
        """The acknowledged notices of a filing and when each was acknowledged.

        Parameters
        ----------
        filing : str
            The filing.

        Returns
        -------
        dict of int to datetime
        """

    @abc.abstractmethod
    def filing_summaries(self) -> list[FilingSummary]:
        """Every filing with a notice or an operation, with its counts and worst open urgency.

        Returns
        -------
        list of FilingSummary
            Most urgent open notice first, then the most recent activity first.
        """

    @abc.abstractmethod
    def count_notices(self) -> int:
        """How many notices are stored.

        Returns
        -------
        int
        """

    @abc.abstractmethod
    def check_writable(self) -> bool:
        """Whether a write transaction can be opened right now.

        Returns
        -------
        bool
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store's resources."""

    # ------------------------------------------------------------------ alert outbox

    @abc.abstractmethod
    def claim_alerts(self, now: dt.datetime, *, limit: int = 20) -> list[ClaimedAlert]:
        """Mark up to ``limit`` due alerts (``pending``/``retry``, due by ``now``) ``sending``.

        Each claim counts as a try (``attempts`` + 1).

        Parameters
        ----------
        now : datetime
            The current time (aware).
        limit : int, default 20
            At most this many.

        Returns
        -------
        list of ClaimedAlert
            Oldest due first.
        """

    @abc.abstractmethod
    def record_attempt(
        self,
        alert_id: int,
        state: AlertState,
        *,
        status: int | None,
        error: str | None,
        next_at: dt.datetime | None = None,
    ) -> None:
        """Record the outcome of a try: ``delivered``, ``retry`` (due at ``next_at``) or ``dead``.

        Parameters
        ----------
        alert_id : int
            The alert.
        state : {"delivered", "retry", "dead"}
            Its new state.
        status : int or None
            The HTTP status / SMTP code.
        error : str or None
            What went wrong.
        next_at : datetime, optional
            When to try again (``retry``).
        """

    @abc.abstractmethod
    def requeue_interrupted(self) -> int:
        """Put alerts left ``sending`` by a crash back to ``retry``, due now; return how many.

        Returns
        -------
        int
        """

    @abc.abstractmethod
    def list_alerts(
        self,
        *,
        state: AlertState | None = None,
        filing: str | None = None,
        notice_id: int | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[StoredAlert], str | None]:
        """Alerts, newest first, and the cursor of the next page.

        Parameters
        ----------
        state : str, optional
            Only this state.
        filing : str, optional
            Only this filing.
        notice_id : int, optional
            Only this notice's alerts.
        limit : int, default 50
            Page size.
        cursor : str, optional
            From the previous page.

        Returns
        -------
        tuple of (list of StoredAlert, str or None)
        """


# Ordered migration steps: version → statements. Append new steps; never edit old ones.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """CREATE TABLE notices (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                filing TEXT NOT NULL,
                dedupe_key TEXT NOT NULL UNIQUE,
                message_id TEXT,
                source TEXT NOT NULL,
                channel TEXT NOT NULL,
                sender TEXT,
                received_at TEXT,
                stored_at TEXT NOT NULL,
                at_ts REAL NOT NULL,
                raw_text TEXT NOT NULL,
                notice_text TEXT NOT NULL,
                extra_json TEXT NOT NULL DEFAULT '{}',
                situation TEXT,
                kind TEXT NOT NULL,
                urgency TEXT NOT NULL,
                model_version TEXT,
                report_json TEXT NOT NULL
            )""",
            "CREATE INDEX notices_filing ON notices (filing, id)",
            """CREATE TABLE operations (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                filing TEXT NOT NULL,
                op_key TEXT NOT NULL UNIQUE,
                submitted_ts REAL NOT NULL,
                operation_json TEXT NOT NULL,
                created_at TEXT NOT NULL
            )""",
            "CREATE INDEX operations_filing ON operations (filing, submitted_ts)",
            """CREATE TABLE signatures (
                timestamp_ms INTEGER NOT NULL,
                sign TEXT NOT NULL,
                seen_ts REAL NOT NULL,
                notice_id INTEGER,
                PRIMARY KEY (timestamp_ms, sign)
            )""",
        ),
    ),
    (
        2,
        (
            "CREATE INDEX notices_situation ON notices (situation, id)",
            "CREATE INDEX notices_urgency ON notices (urgency, id)",
            "CREATE INDEX signatures_seen ON signatures (seen_ts)",
        ),
    ),
    (
        3,
        (
            # when an operator acknowledged the notice on the web page (NULL: still open)
            "ALTER TABLE notices ADD COLUMN acked_at TEXT",
            # the alert outbox (icp_notify.server.outbox): written in the notice's transaction
            """CREATE TABLE alerts (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                notice_id INTEGER NOT NULL REFERENCES notices (id),
                filing TEXT NOT NULL,
                channel TEXT NOT NULL,
                event TEXT NOT NULL,
                idempotency_key TEXT NOT NULL UNIQUE,
                state TEXT NOT NULL,
                urgency TEXT NOT NULL,
                lang TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_ts REAL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                delivered_at TEXT,
                last_status INTEGER,
                last_error TEXT,
                report_json TEXT NOT NULL,
                change_json TEXT,
                UNIQUE (notice_id, channel, event)
            )""",
            "CREATE INDEX alerts_due ON alerts (state, next_ts)",
            "CREATE INDEX alerts_filing ON alerts (filing, id)",
        ),
    ),
)
"""The schema as ordered steps; the ``schema_version`` table records the last one applied."""

_COLUMNS = (
    "id, filing, source, message_id, channel, sender, received_at, stored_at, raw_text,"
    " extra_json, report_json"
)


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


class SqliteStore(NoticeStore):
    """The SQLite store: one file (WAL), one connection per thread, serialised writes.

    Parameters
    ----------
    path : str or Path
        The database file (created with its directory), or ``":memory:"`` for tests.
    busy_timeout_ms : int
        How long a writer waits for another process's lock before failing.
    synchronous : str
        SQLite ``synchronous`` mode; ``FULL`` makes a committed notice survive power loss.
    signature_ttl_s : float
        How long seen webhook signatures are kept (at least the timestamp window).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_ms: int = 10_000,
        synchronous: str = "FULL",
        signature_ttl_s: float = 3 * 3600,
    ) -> None:
        if synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise InputError("invalid_field", "FULL, NORMAL or EXTRA", where="synchronous")
        self._memory = str(path) == ":memory:"
        self._path = str(path)
        if not self._memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._busy = int(busy_timeout_ms)
        self._sync = synchronous.upper()
        self._ttl = signature_ttl_s
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._shared: sqlite3.Connection | None = None
        self._closed = False
        self._version = self._migrate()

    # ------------------------------------------------------------------ connections

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the store is closed")
        if self._memory:
            # one connection shared by every thread (an in-memory database is per connection)
            if self._shared is None:
                self._shared = self._open()
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path,
            timeout=self._busy / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {self._busy}")
        if not self._memory:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self._sync}")
        with self._all_lock:
            self._all.append(conn)
        return conn

    class _Tx:
        """``with store._write() as conn``: lock + ``BEGIN IMMEDIATE`` … ``COMMIT``."""

        def __init__(self, store: SqliteStore) -> None:
            self.store = store
            self.conn: sqlite3.Connection | None = None

        def __enter__(self) -> sqlite3.Connection:
            self.store._write_lock.acquire()
            try:
                self.conn = self.store._connect()
                self.conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.store._write_lock.release()
                raise
            return self.conn

        def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
            assert self.conn is not None
            try:
                if exc_type is None:
                    self.conn.execute("COMMIT")
                else:
                    self.conn.execute("ROLLBACK")
            finally:
                self.store._write_lock.release()

    def _write(self) -> SqliteStore._Tx:
        return SqliteStore._Tx(self)

    def _read(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        if self._memory:
            with self._write_lock:
                return self._connect().execute(sql, params).fetchall()
        return self._connect().execute(sql, params).fetchall()

    def _migrate(self) -> int:
        with self._write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            current = int(row[0]) if row[0] is not None else 0
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
                current = version
        return current

    # ------------------------------------------------------------------ notices

    @property
    def schema_version(self) -> int:
        """The schema version after migration."""
        return self._version

    @staticmethod
    def _row_to_notice(row: sqlite3.Row) -> StoredNotice:
        return StoredNotice(
            id=row["id"],
            filing=row["filing"],
            source=row["source"],
            message_id=row["message_id"],
            channel=Channel(row["channel"]),
            sender=row["sender"],
            received_at=(
                dt.datetime.fromisoformat(row["received_at"]) if row["received_at"] else None
            ),
            stored_at=dt.datetime.fromisoformat(row["stored_at"]),
            raw_text=row["raw_text"],
            extra=json.loads(row["extra_json"]),
            report=Report.model_validate_json(row["report_json"]),
        )

    def find_notice(self, key: str) -> StoredNotice | None:
        """The stored notice with this :func:`dedupe_key`, if any."""
        rows = self._read(f"SELECT {_COLUMNS} FROM notices WHERE dedupe_key = ?", (key,))
        return self._row_to_notice(rows[0]) if rows else None

    def context_for(self, filing: str, *, notices: int = 50) -> Context:
        """The filing's operations and latest stored notices, as a :class:`Context`."""
        return self._context(filing, notices, before_id=None)

    def _context(self, filing: str, notices: int, *, before_id: int | None) -> Context:
        """The filing's operations and its latest ``notices`` notices (below ``before_id``)."""
        ops = [s.operation for s in self.list_operations(filing)]
        below = "" if before_id is None else " AND id < ?"
        params = (filing, notices) if before_id is None else (filing, before_id, notices)
        rows = self._read(
            "SELECT raw_text, received_at, stored_at, sender, channel FROM notices"
            f" WHERE filing = ?{below} ORDER BY id DESC LIMIT ?",
            params,
        )
        prior = [
            PriorNotice(
                text=r["raw_text"],
                received_at=dt.datetime.fromisoformat(r["received_at"] or r["stored_at"]),
                sender=r["sender"],
                channel=Channel(r["channel"]),
            )
            for r in reversed(rows)
        ]
        return Context(operations=tuple(ops), previous_notices=tuple(prior))

    def insert_notice(
        self, new: NewNotice, report: Report, *, signature: tuple[int, str] | None = None
    ) -> tuple[StoredNotice, bool]:
        """Store ``new`` with ``report`` unless its key exists (see :class:`NoticeStore`)."""
        now = utcnow()
        at = new.received_at or now
        cls = report.classification
        router = self.alert_router
        drafts = router.for_notice(new.filing, report, now) if router is not None else []
        enqueued = False
        with self._write() as conn:
            if signature is not None:
                seen = conn.execute(
                    "SELECT notice_id FROM signatures WHERE timestamp_ms = ? AND sign = ?",
                    signature,
                ).fetchone()
                if seen is not None:
                    raise ReplayError(seen[0])
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM notices WHERE dedupe_key = ?", (new.dedupe_key,)
            ).fetchone()
            created = row is None
            if created:
                cur = conn.execute(
                    "INSERT INTO notices (filing, dedupe_key, message_id, source, channel,"
                    " sender, received_at, stored_at, at_ts, raw_text, notice_text, extra_json,"
                    " situation, kind, urgency, model_version, report_json)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        new.filing,
                        new.dedupe_key,
                        new.message_id,
                        new.source,
                        new.channel.value,
                        new.sender,
                        _iso(new.received_at) if new.received_at else None,
                        _iso(now),
                        at.timestamp(),
                        new.raw_text,
                        report.notice.text,
                        json.dumps(dict(new.extra), ensure_ascii=False),
                        cls.situation.value if cls.situation else None,
                        cls.kind.value,
                        report.advice.urgency.value,
                        cls.model_version,
                        json.dumps(to_json_dict(report), ensure_ascii=False),
                    ),
                )
                row = conn.execute(
                    f"SELECT {_COLUMNS} FROM notices WHERE id = ?", (cur.lastrowid,)
                ).fetchone()
                self._enqueue(conn, row["id"], new.filing, drafts, now)
                enqueued = bool(drafts)
            if signature is not None:
                conn.execute(
                    "INSERT INTO signatures (timestamp_ms, sign, seen_ts, notice_id)"
                    " VALUES (?, ?, ?, ?)",
                    (*signature, now.timestamp(), row["id"]),
                )
                self._prune(conn, now)
        if enqueued and self.alert_listener is not None:
            self.alert_listener()
        return self._row_to_notice(row), created

    def _prune(self, conn: sqlite3.Connection, now: dt.datetime) -> None:
        conn.execute("DELETE FROM signatures WHERE seen_ts < ?", (now.timestamp() - self._ttl,))

    def claim_signature(self, timestamp_ms: int, sign: str) -> bool:
        """Record a signature used by an ignored event; ``False`` when already used."""
        now = utcnow()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO signatures (timestamp_ms, sign, seen_ts, notice_id)"
                " VALUES (?, ?, ?, NULL)",
                (timestamp_ms, sign, now.timestamp()),
            )
            self._prune(conn, now)
            return cur.rowcount == 1

    def signature_seen(self, timestamp_ms: int, sign: str) -> int | bool | None:
        """``False`` when unused, else the notice id it was used for (``None`` if ignored)."""
        rows = self._read(
            "SELECT notice_id FROM signatures WHERE timestamp_ms = ? AND sign = ?",
            (timestamp_ms, sign),
        )
        if not rows:
            return False
        notice_id: int | None = rows[0][0]
        return notice_id

    def get_notice(self, notice_id: int) -> StoredNotice | None:
        """One stored notice by id."""
        rows = self._read(f"SELECT {_COLUMNS} FROM notices WHERE id = ?", (notice_id,))
        return self._row_to_notice(rows[0]) if rows else None

    def list_notices(
        self, query: NoticeQuery, *, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[StoredNotice], str | None]:
        """Notices matching ``query``, newest first, and the next page's cursor."""
        where: list[str] = []
        params: list[object] = []
        if query.filing is not None:
            where.append("filing = ?")
            params.append(query.filing)
        if query.situation is not None:
            if str(query.situation) == "ambiguous":
                where.append("situation IS NULL")
            else:
                where.append("situation = ?")
                params.append(str(Situation(query.situation).value))
        if query.urgency is not None:
            where.append("urgency = ?")
            params.append(query.urgency.value)
        if query.since is not None:
            where.append("at_ts >= ?")
            params.append(query.since.timestamp())
        if query.until is not None:
            where.append("at_ts < ?")
            params.append(query.until.timestamp())
        if cursor is not None:
            where.append("id < ?")
            params.append(decode_cursor(cursor))
        sql = f"SELECT {_COLUMNS} FROM notices"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit + 1)
        rows = self._read(sql, tuple(params))
        items = [self._row_to_notice(r) for r in rows[:limit]]
        next_cursor = encode_cursor(items[-1].id) if len(rows) > limit and items else None
        return items, next_cursor

    def iter_notices(self) -> Iterator[StoredNotice]:
        """Every notice, oldest first, read in batches."""
        last = 0
        while True:
            rows = self._read(
                f"SELECT {_COLUMNS} FROM notices WHERE id > ? ORDER BY id LIMIT 200", (last,)
            )
            if not rows:
                return
            for row in rows:
                yield self._row_to_notice(row)
            last = rows[-1]["id"]

    def context_before(self, notice: StoredNotice, *, notices: int = 50) -> Context:
        """The context a stored notice is reclassified with: the filing's operations and
        the ``notices`` notices stored before it."""
        return self._context(notice.filing, notices, before_id=notice.id)

    def update_report(self, notice_id: int, report: Report) -> None:
        """Replace a notice's report and the columns derived from it.

        This is the one place stored reports change (``icp-notify reclassify``, re-explaining a
        filing's notices after an operation): with an :attr:`alert_router`, a change that the
        router calls an escalation enqueues a follow-up alert in the same transaction.
        """
        cls = report.classification
        now = utcnow()
        drafts: list[AlertDraft] = []
        with self._write() as conn:
            before = conn.execute(
                "SELECT filing, report_json FROM notices WHERE id = ?", (notice_id,)
            ).fetchone()
            conn.execute(
                "UPDATE notices SET notice_text = ?, situation = ?, kind = ?, urgency = ?,"
                " model_version = ?, report_json = ? WHERE id = ?",
                (
                    report.notice.text,
                    cls.situation.value if cls.situation else None,
                    cls.kind.value,
                    report.advice.urgency.value,
                    cls.model_version,
                    json.dumps(to_json_dict(report), ensure_ascii=False),
                    notice_id,
                ),
            )
            router = self.alert_router
            if router is not None and before is not None:
                old = Report.model_validate_json(before["report_json"])
                drafts = router.for_change(before["filing"], old, report, now)
                self._enqueue(conn, notice_id, before["filing"], drafts, now)
        if drafts and self.alert_listener is not None:
            self.alert_listener()

    def acknowledge(self, notice_id: int) -> dt.datetime | None:
        """Set ``acked_at`` unless already set; the acknowledgement time, ``None`` if no notice."""
        with self._write() as conn:
            conn.execute(
                "UPDATE notices SET acked_at = ? WHERE id = ? AND acked_at IS NULL",
                (_iso(utcnow()), notice_id),
            )
            row = conn.execute("SELECT acked_at FROM notices WHERE id = ?", (notice_id,)).fetchone()
        return None if row is None else dt.datetime.fromisoformat(row[0])

    def acknowledged(self, filing: str) -> dict[int, dt.datetime]:
        """The filing's acknowledged notices: id → acknowledgement time."""
        rows = self._read(
            "SELECT id, acked_at FROM notices WHERE filing = ? AND acked_at IS NOT NULL",
            (filing,),
        )
        return {r["id"]: dt.datetime.fromisoformat(r["acked_at"]) for r in rows}

    def filing_summaries(self) -> list[FilingSummary]:
        """Every filing, most urgent open notice first (see :class:`NoticeStore`)."""
        rank = {u: i for i, u in enumerate(URGENCY_ORDER)}
        notices = self._read(
            "SELECT filing, urgency, COUNT(*) AS n, SUM(acked_at IS NULL) AS open_n,"
            " MAX(at_ts) AS last_ts FROM notices GROUP BY filing, urgency"
        )
        ops = self._read(
            "SELECT filing, COUNT(*) AS n, MAX(submitted_ts) AS last_ts FROM operations"
            " GROUP BY filing"
        )
        # filing -> [notices, open notices, operations, worst open urgency, last activity]
        acc: dict[str, tuple[int, int, int, Urgency | None, float]] = {}
        for r in notices:
            n, open_n, n_ops, worst, last = acc.get(r["filing"], (0, 0, 0, None, 0.0))
            urgency = Urgency(r["urgency"])
            if r["open_n"] and (worst is None or rank[urgency] < rank[worst]):
                worst = urgency
            acc[r["filing"]] = (
                n + int(r["n"]),
                open_n + int(r["open_n"]),
                n_ops,
                worst,
                max(last, float(r["last_ts"])),
            )
        for r in ops:
            n, open_n, _, worst, last = acc.get(r["filing"], (0, 0, 0, None, 0.0))
            acc[r["filing"]] = (n, open_n, int(r["n"]), worst, max(last, float(r["last_ts"])))
        out = [
            FilingSummary(
                filing=filing,
                notices=n,
                open_notices=open_n,
                operations=n_ops,
                worst_open=worst,
                last_at=dt.datetime.fromtimestamp(last, dt.UTC) if last else None,
            )
            for filing, (n, open_n, n_ops, worst, last) in acc.items()
        ]
        out.sort(key=lambda s: -(s.last_at.timestamp() if s.last_at else 0.0))
        out.sort(key=lambda s: rank[s.worst_open] if s.worst_open else len(rank))
        return out

    def count_notices(self) -> int:
        """How many notices are stored."""
        return int(self._read("SELECT COUNT(*) FROM notices")[0][0])

    # ------------------------------------------------------------------ alert outbox

    @staticmethod
    def _enqueue(
        conn: sqlite3.Connection,
        notice_id: int,
        filing: str,
        drafts: list[AlertDraft],
        now: dt.datetime,
    ) -> None:
        """Insert the drafts as ``pending`` alerts (a repeated notice/channel/event is skipped)."""
        for d in drafts:
            due = d.not_before if d.not_before is not None and d.not_before > now else now
            conn.execute(
                "INSERT OR IGNORE INTO alerts (notice_id, filing, channel, event, idempotency_key,"
                " state, urgency, lang, attempts, next_ts, created_at, updated_at, report_json,"
                " change_json) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, 0, ?, ?, ?, ?, ?)",
                (
                    notice_id,
                    filing,
                    d.channel,
                    d.event,
                    "icpn-" + uuid.uuid4().hex,
                    d.urgency.value,
                    d.lang,
                    due.timestamp(),
                    _iso(now),
                    _iso(now),
                    d.report_json,
                    d.change_json,
                ),
            )

    @staticmethod
    def _row_to_alert(row: sqlite3.Row) -> StoredAlert:
        next_ts = row["next_ts"]
        return StoredAlert(
            id=row["id"],
            notice_id=row["notice_id"],
            filing=row["filing"],
            channel=row["channel"],
            event=row["event"],
            idempotency_key=row["idempotency_key"],
            state=row["state"],
            urgency=Urgency(row["urgency"]),
            lang=row["lang"],
            attempts=row["attempts"],
            next_attempt_at=(
                dt.datetime.fromtimestamp(next_ts, dt.UTC)
                if next_ts is not None and row["state"] in ("pending", "retry")
                else None
            ),
            created_at=dt.datetime.fromisoformat(row["created_at"]),
            updated_at=dt.datetime.fromisoformat(row["updated_at"]),
            delivered_at=(
                dt.datetime.fromisoformat(row["delivered_at"]) if row["delivered_at"] else None
            ),
            last_status=row["last_status"],
            last_error=row["last_error"],
        )

    def claim_alerts(self, now: dt.datetime, *, limit: int = 20) -> list[ClaimedAlert]:
        """Mark due alerts ``sending`` (one try each) and return them, oldest due first."""
        with self._write() as conn:
            rows = conn.execute(
                "SELECT * FROM alerts WHERE state IN ('pending', 'retry') AND next_ts <= ?"
                " ORDER BY next_ts, id LIMIT ?",
                (now.timestamp(), limit),
            ).fetchall()
            claimed = []
            for row in rows:
                conn.execute(
                    "UPDATE alerts SET state = 'sending', attempts = attempts + 1,"
                    " updated_at = ? WHERE id = ?",
                    (_iso(now), row["id"]),
                )
                fresh = conn.execute("SELECT * FROM alerts WHERE id = ?", (row["id"],)).fetchone()
                claimed.append(
                    ClaimedAlert(
                        alert=self._row_to_alert(fresh),
                        report_json=row["report_json"],
                        change_json=row["change_json"],
                    )
                )
        return claimed

    def record_attempt(
        self,
        alert_id: int,
        state: AlertState,
        *,
        status: int | None,
        error: str | None,
        next_at: dt.datetime | None = None,
    ) -> None:
        """Record a try's outcome (see :class:`NoticeStore`)."""
        if state not in ("delivered", "retry", "dead"):
            raise ValueError(f"not an outcome state: {state}")
        now = utcnow()
        with self._write() as conn:
            conn.execute(
                "UPDATE alerts SET state = ?, last_status = ?, last_error = ?, next_ts = ?,"
                " updated_at = ?, delivered_at = CASE WHEN ? = 'delivered' THEN ?"
                " ELSE delivered_at END WHERE id = ?",
                (
                    state,
                    status,
                    error,
                    next_at.timestamp() if next_at is not None else None,
                    _iso(now),
                    state,
                    _iso(now),
                    alert_id,
                ),
            )

    def requeue_interrupted(self) -> int:
        """Alerts left ``sending`` (the process died mid-delivery) go back to ``retry``, due now."""
        now = utcnow()
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE alerts SET state = 'retry', next_ts = ?, updated_at = ?,"
                " last_error = COALESCE(last_error, 'interrupted (service restarted)')"
                " WHERE state = 'sending'",
                (now.timestamp(), _iso(now)),
            )
            return cur.rowcount

    def list_alerts(
        self,
        *,
        state: AlertState | None = None,
        filing: str | None = None,
        notice_id: int | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[StoredAlert], str | None]:
        """Alerts, newest first, and the next page's cursor."""
        where: list[str] = []
        params: list[object] = []
        for column, value in (("state", state), ("filing", filing), ("notice_id", notice_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if cursor is not None:
            where.append("id < ?")
            params.append(decode_cursor(cursor))
        sql = "SELECT * FROM alerts"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit + 1)
        rows = self._read(sql, tuple(params))
        items = [self._row_to_alert(r) for r in rows[:limit]]
        next_cursor = encode_cursor(items[-1].id) if len(rows) > limit and items else None
        return items, next_cursor

    # ------------------------------------------------------------------ operations

    @staticmethod
    def _row_to_operation(row: sqlite3.Row) -> StoredOperation:
        return StoredOperation(
            id=row["id"],
            filing=row["filing"],
            operation=Operation.model_validate_json(row["operation_json"]),
            created_at=dt.datetime.fromisoformat(row["created_at"]),
        )

    def add_operation(self, filing: str, operation: Operation) -> tuple[StoredOperation, bool]:
        """Register an operation (idempotent: the same operation twice is stored once)."""
        body = json.dumps(to_json_dict(operation), ensure_ascii=False, sort_keys=True)
        key = hashlib.sha256(f"{filing}\x00{body}".encode()).hexdigest()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO operations"
                " (filing, op_key, submitted_ts, operation_json, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (filing, key, operation.submitted_at.timestamp(), body, _iso(utcnow())),
            )
            created = cur.rowcount == 1
            row = conn.execute(
                "SELECT id, filing, operation_json, created_at FROM operations WHERE op_key = ?",
                (key,),
            ).fetchone()
        return self._row_to_operation(row), created

    def list_operations(self, filing: str) -> list[StoredOperation]:
        """The operations of a filing, oldest submission first."""
        rows = self._read(
            "SELECT id, filing, operation_json, created_at FROM operations WHERE filing = ?"
            " ORDER BY submitted_ts, id",
            (filing,),
        )
        return [self._row_to_operation(r) for r in rows]

    # ------------------------------------------------------------------ lifecycle

    def check_writable(self) -> bool:
        """Open and roll back a write transaction; ``False`` if that fails."""
        try:
            with self._write_lock:
                conn = self._connect()
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
        except (sqlite3.Error, RuntimeError):
            return False
        return True

    def close(self) -> None:
        """Close every connection the store opened (from any thread)."""
        self._closed = True
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._shared = None
