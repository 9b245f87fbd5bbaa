"""Small asyncio helpers shared by the runner and the renderer."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

A = TypeVar("A")
B = TypeVar("B")


async def both(first: Coroutine[Any, Any, A], second: Coroutine[Any, Any, B]) -> tuple[A, B]:
    """Run two jobs side by side. When one fails the other is cancelled and waited for, and
    the failure is raised as itself, not wrapped in an ExceptionGroup."""
    failure: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as group:
            one = group.create_task(first)
            two = group.create_task(second)
    except BaseExceptionGroup as failures:
        failure = failures.exceptions[0]
        while isinstance(failure, BaseExceptionGroup):
            failure = failure.exceptions[0]
    if failure is not None:
        raise failure
    return one.result(), two.result()
