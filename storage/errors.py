"""The storage package's errors: one root."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .repositories import JobRecord

__all__ = ["DuplicateJob", "StorageError"]


class StorageError(Exception):
    """Root of every error storage raises on purpose."""


class DuplicateJob(StorageError):
    """A job with the same idempotency key exists; ``job`` is that job."""

    def __init__(self, job: JobRecord) -> None:
        super().__init__(job.id)
        self.job = job
