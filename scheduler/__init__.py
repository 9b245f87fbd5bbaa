"""APScheduler 3 jobs inside ``serve``: the daily trending reels, the admins' summary and
cleanup; ``DailyRun`` is also what ``reelfactory daily`` runs once."""

from .daily import DailyRun, DayReport, job_key
from .service import Scheduler, send_summary

__all__ = ["DailyRun", "DayReport", "Scheduler", "job_key", "send_summary"]
