"""The SQLite database: one writer connection, a few read connections, WAL mode, numbered
migrations at start.

Every aiosqlite connection is one thread running its statements in order, so with a single
connection a button press's one-row read waits behind every write queued before it. In WAL
mode readers never block the writer nor each other: the hot reads (``fetchone``/``fetchall``)
go to their own connections, writes stay on ``conn``, one autocommitted statement each (a
short write transaction). A read sees every write awaited before it (each read statement is
its own transaction, begun after the write committed).

``memo`` holds values the hot paths would otherwise query on every update (a user's stored
choices); the repository that writes a value drops it from there.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

logger = logging.getLogger(__name__)

READERS = 2  # read connections (threads); the writer is one more
MEMO_SIZE = 4096
_SAMPLES = 2048  # recent query latencies kept per kind


def _migrations() -> list[tuple[int, str]]:
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), entry.read_text(encoding="utf-8")))
    return sorted(found)


@dataclass(slots=True)
class QueryTimes:
    """Recent query latencies (seconds), from the call to the result, waits included."""

    reads: deque[float] = field(default_factory=lambda: deque(maxlen=_SAMPLES))
    writes: deque[float] = field(default_factory=lambda: deque(maxlen=_SAMPLES))


class Memo:
    """A bounded map of cached values (least recently used out first). ``epoch`` counts the
    drops: a value read from the database is put only if no drop happened since the read
    began (else it may be older than the write that dropped it)."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self.epoch = 0
        self._values: OrderedDict[tuple[str, str], Any] = OrderedDict()

    def get(self, kind: str, key: str) -> tuple[bool, Any]:
        try:
            value = self._values[(kind, key)]
        except KeyError:
            return False, None
        self._values.move_to_end((kind, key))
        return True, value

    def put(self, kind: str, key: str, value: Any, *, read_at: int | None = None) -> None:
        if read_at is not None and read_at != self.epoch:
            return
        self._values[(kind, key)] = value
        self._values.move_to_end((kind, key))
        while len(self._values) > self.size:
            self._values.popitem(last=False)

    def drop(self, kind: str, key: str) -> None:
        self.epoch += 1
        self._values.pop((kind, key), None)


async def _connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA busy_timeout=5000")
    return conn


class Database:
    """Owns the connections. Repositories borrow them; only ``storage`` speaks SQL."""

    def __init__(self, conn: aiosqlite.Connection, readers: Iterable[aiosqlite.Connection] = ()):
        self.conn = conn  # the writer (and the reader of a database in memory)
        self.readers = list(readers)
        self._turn = 0
        self.memo = Memo()
        self.times = QueryTimes()

    @classmethod
    async def open(cls, path: Path, *, readers: int = READERS) -> Database:
        in_memory = str(path) == ":memory:"
        if not in_memory:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await _connect(path)
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA synchronous=NORMAL")
            db = cls(conn)
            await db.migrate()
            # Opened after the migrations: a reader never sees a half-made schema.
            for _ in range(0 if in_memory else readers):
                reader = await _connect(path)
                await reader.execute("PRAGMA query_only=ON")
                db._add_reader(reader)
        except BaseException:
            await conn.close()
            raise
        return db

    def _add_reader(self, reader: aiosqlite.Connection) -> None:
        self.readers.append(reader)

    def _reader(self) -> aiosqlite.Connection:
        # Taken in turn, not borrowed: a connection queues the statements given to it, so
        # reads pipeline on each thread instead of waiting for a whole read (measured under
        # load: borrowing made reads wait seconds for a free reader).
        if not self.readers:
            return self.conn
        self._turn = (self._turn + 1) % len(self.readers)
        return self.readers[self._turn]

    async def fetchone(self, sql: str, args: Iterable[Any] = ()) -> aiosqlite.Row | None:
        """One row of a read, on a read connection (one trip to its thread)."""
        rows = await self.fetchall(sql, args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, args: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        """Every row of a read, on a read connection (one trip to its thread)."""
        started = time.perf_counter()
        rows = list(await self._reader().execute_fetchall(sql, tuple(args)))
        self.times.reads.append(time.perf_counter() - started)
        return rows

    async def write(self, sql: str, args: Iterable[Any] = ()) -> aiosqlite.Cursor:
        """One statement on the writer, its own transaction."""
        started = time.perf_counter()
        cursor = await self.conn.execute(sql, tuple(args))
        self.times.writes.append(time.perf_counter() - started)
        return cursor

    async def migrate(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        current = int(row[0]) if row else 0
        for number, sql in _migrations():
            if number <= current:
                continue
            # One transaction per migration: a failed one leaves the schema as it was.
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _split_sql(sql):
                    await self.conn.execute(statement)
                await self.conn.execute(f"PRAGMA user_version={number}")
                await self.conn.execute("COMMIT")
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            logger.info("applied migration %03d", number)
            current = number
        return current

    async def close(self) -> None:
        try:
            for reader in self.readers:
                await reader.close()
        finally:
            await self.conn.close()


def _split_sql(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


@asynccontextmanager
async def open_database(path: Path) -> AsyncIterator[Database]:
    db = await Database.open(path)
    try:
        yield db
    finally:
        await db.close()
