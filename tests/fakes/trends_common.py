"""What the Wikipedia and Google Trends fakes share: scripted behaviours and a request log."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Behaviour:
    kind: str  # ok | status | hang | malformed | bad_schema | empty
    status: int = 200
    retry_after: float | None = None


def ok() -> Behaviour:
    return Behaviour("ok")


def status(code: int, retry_after: float | None = None) -> Behaviour:
    return Behaviour("status", code, retry_after)


def hang() -> Behaviour:
    """Never answers until the fake closes: the client's timeout must end the wait."""
    return Behaviour("hang")


def malformed() -> Behaviour:
    """A 200 whose body is cut off mid-document."""
    return Behaviour("malformed")


def bad_schema() -> Behaviour:
    """A well-formed 200 of the wrong shape."""
    return Behaviour("bad_schema")


def empty() -> Behaviour:
    """A well-formed answer with nothing in it (Wikipedia: no ``mostread`` yet; RSS: no item)."""
    return Behaviour("empty")


@dataclass(slots=True)
class Logged:
    path: str
    query: dict[str, str]
    user_agent: str
    answered: int = 0


@dataclass(slots=True)
class Script:
    behaviours: list[Behaviour] = field(default_factory=list)

    def next(self) -> Behaviour:
        return self.behaviours.pop(0) if self.behaviours else ok()
