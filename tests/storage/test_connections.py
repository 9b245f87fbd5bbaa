"""The writer and the read connections (WAL): reads never wait behind the writer, see every
write awaited before them, and never see one not yet committed."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from storage import Database, JobRecord, JobRepository, UserRepository


def _job(owner: str) -> JobRecord:
    return JobRecord(
        id=JobRepository.new_id(),
        state="script_review",
        language="en",
        style="bold-yellow",
        work_dir="w",
        owner_id=owner,
    )


async def test_a_read_is_served_while_the_writer_is_stuck(db: Database) -> None:
    jobs = JobRepository(db)
    record = await jobs.create(_job("telegram:1"))
    gate = threading.Event()
    entered = threading.Event()

    def hold() -> int:
        entered.set()
        gate.wait(30)
        return 1

    # The writer's thread blocks inside a statement until the gate opens.
    await db.conn.create_function("hold", 0, hold)
    stuck = asyncio.create_task(db.conn.execute("SELECT hold()"))
    try:
        await asyncio.to_thread(entered.wait, 30)
        loaded = await asyncio.wait_for(jobs.get(record.id), 30)
        assert loaded is not None and loaded.owner_id == "telegram:1"
        assert not stuck.done()  # the read did not go through the writer
    finally:
        gate.set()
        await stuck


async def test_reads_see_awaited_writes_and_not_open_transactions(db: Database) -> None:
    jobs = JobRepository(db)
    records = [await jobs.create(_job(f"telegram:{n}")) for n in range(20)]

    async def write_then_read(record: JobRecord, n: int) -> str | None:
        await jobs.update(record.id, selection={"scenes": [n]})
        assert await jobs.set_state(record.id, "images_review", expect="script_review")
        loaded = await jobs.get(record.id)
        assert loaded is not None and loaded.selection == {"scenes": [n]}
        return loaded.state

    states = await asyncio.gather(*(write_then_read(r, n) for n, r in enumerate(records)))
    assert states == ["images_review"] * 20
    assert len(db.times.reads) >= 20 and len(db.times.writes) >= 40

    await db.conn.execute("BEGIN IMMEDIATE")
    try:
        await db.conn.execute("UPDATE jobs SET state = 'cancelled' WHERE id = ?", (records[0].id,))
        uncommitted = await jobs.get(records[0].id)
        assert uncommitted is not None and uncommitted.state == "images_review"
    finally:
        await db.conn.execute("COMMIT")
    committed = await jobs.get(records[0].id)
    assert committed is not None and committed.state == "cancelled"


async def test_the_read_connections_refuse_writes(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "r.db", readers=1)
    try:
        assert len(db.readers) == 1
        async with db.readers[0].execute("PRAGMA query_only") as cursor:
            row = await cursor.fetchone()
        assert row is not None and row[0] == 1
    finally:
        await db.close()


async def test_user_choices_are_cached_and_a_write_replaces_them(db: Database) -> None:
    users = UserRepository(db)
    assert await users.get("telegram:7") is None
    reads = len(db.times.reads)
    assert await users.get("telegram:7") is None  # the memo answered
    assert len(db.times.reads) == reads
    await users.update("telegram:7", ui_language="ru")
    first = await users.get("telegram:7")
    assert first is not None and first.ui_language == "ru"
    first.ui_language = "es"  # a caller's copy, not the cached value
    again = await users.get("telegram:7")
    assert again is not None and again.ui_language == "ru"

    # Updates racing reads: the last write wins in the cache too.
    await asyncio.gather(
        *(users.update("telegram:7", voice=f"v{n}") for n in range(10)),
        *(users.get("telegram:7") for _ in range(10)),
    )
    final = await users.get("telegram:7")
    row = await db.fetchone("SELECT voice FROM users WHERE user_id = ?", ("telegram:7",))
    assert final is not None and row is not None and final.voice == row["voice"]
