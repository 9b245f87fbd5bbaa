"""An S3 API on 127.0.0.1 for tests: moto's threaded server, one fresh bucket per use.

As a context manager (no pytest)::

    with FakeS3() as s3:
        store = R2BlobStore(**s3.store_kwargs())

As fixtures: import ``moto_s3`` (the server, once per session) and ``s3_server`` (a fresh
bucket per test, with AWS settings from the environment shut out) into a test module.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aioboto3
import boto3  # type: ignore[import-untyped]
import httpx
import pytest
from botocore.config import Config  # type: ignore[import-untyped]
from moto.server import ThreadedMotoServer

REGION = "auto"
ACCESS_KEY_ID = "testing-key-id"
SECRET_ACCESS_KEY = "testing-secret"
CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "path"}, region_name=REGION)


@dataclass(frozen=True, slots=True)
class S3Endpoint:
    """Where a test's bucket lives and how to sign requests to it."""

    endpoint_url: str
    bucket: str
    access_key_id: str = ACCESS_KEY_ID
    secret_access_key: str = SECRET_ACCESS_KEY
    region: str = REGION

    def store_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``R2BlobStore`` (add or override the rest)."""
        return {
            "endpoint_url": self.endpoint_url,
            "bucket": self.bucket,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
        }

    def client(self) -> Any:
        """An aioboto3 S3 client (an async context manager) to check what a test stored."""
        session = aioboto3.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=self.region,
        )
        return session.client("s3", endpoint_url=self.endpoint_url, config=CONFIG)


class FakeS3:
    """moto's S3 in a thread on 127.0.0.1 and a free port. Its state is moto's, which is
    global to the process: ``reset()`` forgets every bucket."""

    def __init__(self) -> None:
        self._server: ThreadedMotoServer | None = None
        self._admin: Any = None  # a boto3 client, kept: building one takes a good 0.1 s
        self.url = ""

    def start(self) -> Self:
        if self._server is None:
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            assert server._server is not None
            server._server.app = _one_server_header(server._server.app)
            host, port = server.get_host_and_port()
            self._server, self.url = server, f"http://{host}:{port}"
            self._admin = boto3.client(
                "s3",
                endpoint_url=self.url,
                aws_access_key_id=ACCESS_KEY_ID,
                aws_secret_access_key=SECRET_ACCESS_KEY,
                config=CONFIG,
            )
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._admin.close()
        with contextlib.suppress(httpx.HTTPError):
            self.reset()
        server.stop()
        # ThreadedMotoServer.stop() shuts the loop down but leaves the socket open.
        if server._server is not None:
            server._server.server_close()

    def reset(self) -> None:
        httpx.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()

    def bucket(self, name: str | None = None) -> S3Endpoint:
        """Create a bucket (a unique name by default) in region ``auto``, as R2 has."""
        if self._server is None:
            raise RuntimeError("start the fake first")
        endpoint = S3Endpoint(self.url, name or f"reels-{secrets.token_hex(4)}")
        self._admin.create_bucket(
            Bucket=endpoint.bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        return endpoint

    def __enter__(self) -> S3Endpoint:
        self.start()
        try:
            return self.bucket()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _one_server_header(app: Any) -> Any:
    """moto's answers carry a Server header and werkzeug adds its own. aiohttp's strict parser
    (``python -X dev``, or no C extension) refuses a duplicate, so moto's goes."""

    def wsgi(environ: Any, start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(name, value) for name, value in headers if name.lower() != "server"]
            return start_response(status, kept, exc_info)

        return app(environ, start)

    return wsgi


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def isolate_aws_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Keep a developer's AWS profile, config files and endpoints out of a test; give botocore
    (and moto) dummy credentials in case something looks them up."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[FakeS3]:
    fake = FakeS3().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def s3_server(
    moto_s3: FakeS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[S3Endpoint]:
    """A fresh bucket on the shared moto server; moto's state is wiped afterwards."""
    isolate_aws_environment(monkeypatch, tmp_path)
    try:
        yield moto_s3.bucket()
    finally:
        moto_s3.reset()
