"""SAQ's Redis queue with fenced writes: a worker that lost its job cannot write to it.

SAQ (0.26) gives every render a heartbeat: a job whose worker sends none for ``heartbeat``
seconds is swept by any live worker and retried (or finished ABORTED after its last attempt).
What SAQ does not do is stop the worker that was swept from writing later: a worker paused past
its heartbeat (SIGSTOP, a frozen VM) that wakes up would still ``finish`` the job, overwrite the
next attempt's record with its heartbeats, and take it off the active list. So every write that
a job's owner makes here (heartbeat, retry, finish) runs as one Lua script that first checks
the stored record still names the writer as the current attempt (same ``attempts`` and
``worker_id``) and is still running; otherwise it changes nothing.

SAQ's known race (tobymao/saq#277): a sweep that catches a job between its worker's dequeue
(BLMOVE) and that worker's first update sees it "queued" in the active list, aborts it and takes
it off that list, so if its worker then dies nobody ever sweeps it. Here the dequeue moves the
job and marks it active and touched in one script, so a sweep never sees that in-between state.
"""

from __future__ import annotations

import asyncio
import logging
import time
import typing as t

from saq.job import Job, Status
from saq.queue.redis import RedisQueue

logger = logging.getLogger(__name__)

# KEYS[1] the job; ARGV[1] attempts, ARGV[2] worker id, ARGV[3] allowed statuses (",a,b,").
_FENCE = """
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local stored = cjson.decode(current)
local attempts = tonumber(stored['attempts'] or 0)
local worker = stored['worker_id']
if worker == nil or worker == cjson.null then worker = '' end
local status = stored['status']
if status == nil or status == cjson.null then status = 'new' end
if attempts ~= tonumber(ARGV[1]) or worker ~= ARGV[2] then return 0 end
if not string.find(ARGV[3], ',' .. status .. ',', 1, true) then return 0 end
"""

# KEYS 2 active, 3 incomplete; ARGV[4] the job, ARGV[5] ttl, ARGV[6] the new status.
_FINISH = (
    _FENCE
    + """
redis.call('LREM', KEYS[2], 1, KEYS[1])
redis.call('ZREM', KEYS[3], KEYS[1])
local ttl = tonumber(ARGV[5])
if ttl > 0 then
    redis.call('SETEX', KEYS[1], ttl, ARGV[4])
elseif ttl == 0 then
    redis.call('SET', KEYS[1], ARGV[4])
else
    redis.call('DEL', KEYS[1])
end
redis.call('PUBLISH', KEYS[1], ARGV[6])
return 1
"""
)

# KEYS 2 active, 3 queued, 4 incomplete; ARGV[4] the job, ARGV[5] retry at (0: now),
# ARGV[6] its schedule.
_RETRY = (
    _FENCE
    + """
redis.call('LREM', KEYS[2], 1, KEYS[1])
redis.call('LREM', KEYS[3], 1, KEYS[1])
local at = tonumber(ARGV[5])
if at > 0 then
    redis.call('ZADD', KEYS[4], at, KEYS[1])
else
    redis.call('ZADD', KEYS[4], ARGV[6], KEYS[1])
    redis.call('RPUSH', KEYS[3], KEYS[1])
end
redis.call('SET', KEYS[1], ARGV[4])
redis.call('PUBLISH', KEYS[1], 'queued')
return 1
"""
)

# ARGV[4] the job.
_UPDATE = (
    _FENCE
    + """
redis.call('SET', KEYS[1], ARGV[4])
redis.call('PUBLISH', KEYS[1], 'active')
return 1
"""
)

# KEYS 1 queued, 2 active: move the next job and mark it taken, as one step.
_DEQUEUE = """
local id = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
if not id then return false end
local current = redis.call('GET', id)
if current then
    local job = cjson.decode(current)
    local now = redis.call('TIME')
    local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
    job['status'] = 'active'
    job['touched'] = ms
    job['started'] = ms
    redis.call('SET', id, cjson.encode(job))
end
return id
"""

RUNNING = ",active,aborting,"
DEQUEUE_POLL = 0.1  # s between looks at an empty line (a script cannot block like BLMOVE)


class FencedRedisQueue(RedisQueue):
    """``RedisQueue`` whose heartbeats, retries and finishes only land for the current attempt."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._finish_script = self.redis.register_script(_FINISH)
        self._retry_script = self.redis.register_script(_RETRY)
        self._update_script = self.redis.register_script(_UPDATE)
        self._dequeue_script = self.redis.register_script(_DEQUEUE)
        self.refused = 0  # writes refused by the fence (stale attempts)

    def _fence(self, job: Job, allowed: str) -> list[t.Any]:
        return [job.attempts, job.worker_id or "", allowed]

    def _refused(self, action: str, job: Job) -> None:
        self.refused += 1
        logger.warning(
            "render queue: %s of %s by attempt %s (worker %s) refused: no longer its job",
            action,
            job.key,
            job.attempts,
            job.worker_id,
        )

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:
        deadline = time.monotonic() + timeout if timeout else None
        while True:
            job_id = await self._dequeue_script(
                keys=[self._queued, self._active], args=[], client=self.redis
            )
            if job_id:
                return await self._get_job_by_id(job_id)
            if deadline is not None and time.monotonic() >= deadline:
                return None
            await asyncio.sleep(poll_interval or DEQUEUE_POLL)

    async def _update(self, job: Job, status: Status | None = None, **kwargs: t.Any) -> None:
        if status is not None:  # a worker taking the job it has just dequeued
            await super()._update(job, status=status, **kwargs)
            return
        job.status = Status.ACTIVE
        args = [*self._fence(job, ",active,"), self.serialize(job)]
        if not await self._update_script(keys=[job.id], args=args, client=self.redis):
            self._refused("heartbeat", job)

    async def _retry(self, job: Job, error: str | None) -> None:
        delay = job.next_retry_delay()
        at = time.time() + delay if delay else 0
        args = [*self._fence(job, RUNNING), self.serialize(job), at, job.scheduled]
        keys = [job.id, self._active, self._queued, self._incomplete]
        if not await self._retry_script(keys=keys, args=args, client=self.redis):
            self._refused("retry", job)

    async def _finish(
        self,
        job: Job,
        status: Status,
        *,
        result: t.Any = None,
        error: str | None = None,
    ) -> None:
        args = [*self._fence(job, RUNNING), self.serialize(job), job.ttl, status.value]
        keys = [job.id, self._active, self._incomplete]
        if not await self._finish_script(keys=keys, args=args, client=self.redis):
            self._refused(f"finish ({status.value})", job)
