"""Persistence on aiosqlite. SQL lives here and nowhere else."""

from .db import Database, open_database
from .deliveries import DeliveryRecord, DeliveryRepository, UploadRepository
from .repositories import (
    DuplicateJob,
    JobRecord,
    JobRepository,
    StageRunRecord,
    StageRunRepository,
)

__all__ = [
    "Database",
    "DeliveryRecord",
    "DeliveryRepository",
    "DuplicateJob",
    "JobRecord",
    "JobRepository",
    "StageRunRecord",
    "StageRunRepository",
    "UploadRepository",
    "open_database",
]
