"""Persistence on aiosqlite. SQL lives here and nowhere else."""

from .alerts import AlertRecord, AlertRepository
from .connections import Connection, ConnectionRepository, PlatformPost, PlatformPostRepository
from .daily import DailyKey, DailyPost, DailyPostRepository
from .db import Database, open_database
from .deliveries import DeliveryRecord, DeliveryRepository, UploadRepository
from .errors import DuplicateJob, StorageError
from .fsm import FsmRepository
from .moderation import ModerationRepository
from .repositories import (
    JobRecord,
    JobRepository,
    StageRunRecord,
    StageRunRepository,
)
from .users import UsageRepository, UserRecord, UserRepository

__all__ = [
    "AlertRecord",
    "AlertRepository",
    "Connection",
    "ConnectionRepository",
    "DailyKey",
    "DailyPost",
    "DailyPostRepository",
    "Database",
    "DeliveryRecord",
    "DeliveryRepository",
    "DuplicateJob",
    "FsmRepository",
    "JobRecord",
    "JobRepository",
    "ModerationRepository",
    "StageRunRecord",
    "StageRunRepository",
    "StorageError",
    "UploadRepository",
    "UsageRepository",
    "UserRecord",
    "UserRepository",
    "PlatformPost",
    "PlatformPostRepository",
    "open_database",
]
