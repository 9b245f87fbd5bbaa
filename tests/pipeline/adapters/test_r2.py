"""The R2 store through aioboto3 against moto's S3 server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from pipeline.adapters.r2 import CACHE_CONTROL, MIB, R2BlobStore, _from_client_error
from pipeline.errors import ProviderError
from pipeline.settings import Settings
from pipeline.stages.publish import content_type, job_prefix
from tests.fakes.s3 import S3Endpoint, closed_port_url, moto_s3, s3_server

__all__ = ["moto_s3", "s3_server"]  # fixtures, used by name

LAYOUT = ["reel.mp4", "thumb.jpg", "script.json", "voice.m4a", "subs.ass", "images/0-0.jpg"]
EXPECTED_TYPES = {
    "reel.mp4": "video/mp4",
    "thumb.jpg": "image/jpeg",
    "script.json": "application/json",
    "voice.m4a": "audio/mp4",
    "subs.ass": "text/x-ssa; charset=utf-8",
    "images/0-0.jpg": "image/jpeg",
}


@pytest.fixture
async def store(s3_server: S3Endpoint) -> AsyncIterator[R2BlobStore]:
    async with R2BlobStore(**s3_server.store_kwargs(), multipart_chunksize=5 * MIB) as opened:
        yield opened


@pytest.fixture
async def s3(s3_server: S3Endpoint) -> AsyncIterator[Any]:
    async with s3_server.client() as client:
        yield client


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def count_calls(monkeypatch: pytest.MonkeyPatch, store: R2BlobStore, method: str) -> list[Any]:
    """Record the calls the store's one client gets to ``method``."""
    calls: list[Any] = []
    real = getattr(store._client, method)

    async def counted(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return await real(**kwargs)

    monkeypatch.setattr(store._client, method, counted)
    return calls


async def test_job_layout_has_content_types_and_immutable_caching(
    store: R2BlobStore, s3: Any, s3_server: S3Endpoint, tmp_path: Path
) -> None:
    prefix = job_prefix("job-42", datetime(2025, 3, 7, 12, tzinfo=UTC))
    assert prefix == "reels/2025/03/07/job-42"
    for name in LAYOUT:
        path = write(tmp_path / name, f"bytes of {name}".encode())
        await store.put(f"{prefix}/{name}", path, content_type(path))

    for name in LAYOUT:
        stored = await s3.get_object(Bucket=s3_server.bucket, Key=f"{prefix}/{name}")
        assert stored["ContentType"] == EXPECTED_TYPES[name]
        assert stored["CacheControl"] == "public, max-age=31536000, immutable"
        async with stored["Body"] as body:
            assert await body.read() == f"bytes of {name}".encode()
    listed = await s3.list_objects_v2(Bucket=s3_server.bucket, Prefix=f"{prefix}/")
    assert sorted(item["Key"] for item in listed["Contents"]) == sorted(
        f"{prefix}/{name}" for name in LAYOUT
    )


async def test_large_file_goes_up_in_parts_and_reads_back_identical(
    store: R2BlobStore, s3: Any, s3_server: S3Endpoint, tmp_path: Path
) -> None:
    data = os.urandom(12 * MIB)
    path = write(tmp_path / "reel.mp4", data)
    key = "reels/2025/03/07/job-1/reel.mp4"

    await store.put(key, path, "video/mp4")

    head = await s3.head_object(Bucket=s3_server.bucket, Key=key)
    assert head["ETag"].strip('"').endswith("-3")  # 5 + 5 + 2 MiB
    assert (head["ContentType"], head["CacheControl"]) == ("video/mp4", CACHE_CONTROL)
    stored = await s3.get_object(Bucket=s3_server.bucket, Key=key)
    async with stored["Body"] as body:
        assert await body.read() == data


async def test_put_again_with_the_same_content_sends_nothing(
    store: R2BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = write(tmp_path / "thumb.jpg", b"\xff\xd8 a thumbnail")
    large = write(tmp_path / "reel.mp4", os.urandom(11 * MIB))
    await store.put("a/thumb.jpg", small, "image/jpeg")
    await store.put("a/reel.mp4", large, "video/mp4")
    before = [await store.head("a/thumb.jpg"), await store.head("a/reel.mp4")]
    puts = count_calls(monkeypatch, store, "put_object")
    multiparts = count_calls(monkeypatch, store, "create_multipart_upload")

    await store.put("a/thumb.jpg", small, "image/jpeg")
    await store.put("a/reel.mp4", large, "video/mp4")

    assert (puts, multiparts) == ([], [])
    assert [await store.head("a/thumb.jpg"), await store.head("a/reel.mp4")] == before


async def test_put_replaces_other_content_or_headers(store: R2BlobStore, tmp_path: Path) -> None:
    path = write(tmp_path / "script.json", b'{"v": 1}')
    await store.put("a/script.json", path, "text/plain")
    first = await store.head("a/script.json")

    await store.put("a/script.json", path, "application/json")
    retyped = await store.head("a/script.json")
    assert retyped is not None and retyped["content_type"] == "application/json"

    write(path, b'{"v": 2}')
    await store.put("a/script.json", path, "application/json")
    second = await store.head("a/script.json")
    assert first is not None and second is not None
    assert second["etag"] != first["etag"] and second["size"] == 8


async def test_failed_part_aborts_the_upload(
    store: R2BlobStore,
    s3: Any,
    s3_server: S3Endpoint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write(tmp_path / "reel.mp4", os.urandom(12 * MIB))
    real = store._client.upload_part

    async def flaky(**kwargs: Any) -> Any:
        if kwargs["PartNumber"] == 2:
            raise ClientError(
                {"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
                "UploadPart",
            )
        return await real(**kwargs)

    monkeypatch.setattr(store._client, "upload_part", flaky)
    with pytest.raises(ProviderError) as caught:
        await store.put("a/reel.mp4", path, "video/mp4")

    assert caught.value.status == 403 and not caught.value.retryable
    uploads = await s3.list_multipart_uploads(Bucket=s3_server.bucket)
    assert uploads.get("Uploads", []) == []
    assert not await store.exists("a/reel.mp4")


async def test_cancelled_put_aborts_the_upload(
    store: R2BlobStore,
    s3: Any,
    s3_server: S3Endpoint,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write(tmp_path / "reel.mp4", os.urandom(12 * MIB))
    started = asyncio.Event()

    async def stuck(**kwargs: Any) -> Any:
        started.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(store._client, "upload_part", stuck)
    task = asyncio.create_task(store.put("a/reel.mp4", path, "video/mp4"))
    async with asyncio.timeout(10):
        await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    uploads = await s3.list_multipart_uploads(Bucket=s3_server.bucket)
    assert uploads.get("Uploads", []) == []


async def test_presigned_url_serves_the_bytes(store: R2BlobStore, tmp_path: Path) -> None:
    path = write(tmp_path / "thumb.jpg", b"\xff\xd8 presigned")
    key = "reels/2025/03/07/job 1/thumb.jpg"
    await store.put(key, path, "image/jpeg")

    url = await store.url(key)

    assert "X-Amz-Expires=604800" in url and "X-Amz-Signature=" in url
    async with httpx.AsyncClient() as http:
        answer = await http.get(url)
    assert answer.status_code == 200
    assert answer.content == b"\xff\xd8 presigned"
    assert answer.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize(
    "base",
    ["https://media.example.com", "https://media.example.com/", "https://cdn.example.com/r2/"],
)
async def test_public_url_on_a_custom_domain(base: str) -> None:
    store = R2BlobStore(
        bucket="reels",
        access_key_id="k",
        secret_access_key="s",
        account_id="acc",
        public_base_url=base,
    )
    url = await store.url("reels/2025/03/07/job 1/Über café #1.jpg")
    root = base.rstrip("/")
    assert url == f"{root}/reels/2025/03/07/job%201/%C3%9Cber%20caf%C3%A9%20%231.jpg"
    assert store._client is None  # no client needed for a public URL


async def test_exists_and_delete(store: R2BlobStore, tmp_path: Path) -> None:
    path = write(tmp_path / "subs.ass", b"[Script Info]")
    assert not await store.exists("a/subs.ass")
    await store.put("a/subs.ass", path, "text/x-ssa; charset=utf-8")
    assert await store.exists("a/subs.ass")
    info = await store.head("a/subs.ass")
    assert info is not None and info["size"] == len(b"[Script Info]")

    await store.delete("a/subs.ass")
    await store.delete("a/subs.ass")  # deleting twice is harmless
    assert not await store.exists("a/subs.ass")


async def test_missing_bucket_is_not_retryable(s3_server: S3Endpoint, tmp_path: Path) -> None:
    path = write(tmp_path / "thumb.jpg", b"x")
    kwargs = s3_server.store_kwargs() | {"bucket": "no-such-bucket"}
    async with R2BlobStore(**kwargs) as store:
        with pytest.raises(ProviderError) as caught:
            await store.put("a/thumb.jpg", path, "image/jpeg")

    error = caught.value
    assert (error.provider, error.status, error.retryable) == ("r2", 404, False)
    assert "NoSuchBucket" in str(error)
    assert isinstance(error.__cause__, ClientError)
    async with R2BlobStore(**kwargs) as store:
        # HEAD answers carry no error body: a missing bucket reads like a missing key.
        assert not await store.exists("a/thumb.jpg")


@pytest.mark.parametrize("call", ["put", "exists"])
async def test_unreachable_endpoint_is_retryable(call: str, tmp_path: Path) -> None:
    path = write(tmp_path / "thumb.jpg", b"x")
    store = R2BlobStore(
        bucket="reels",
        access_key_id="k",
        secret_access_key="s",
        endpoint_url=closed_port_url(),
        max_attempts=1,
    )
    async with store:
        with pytest.raises(ProviderError) as caught:
            if call == "put":
                await store.put("a/thumb.jpg", path, "image/jpeg")
            else:
                await store.exists("a/thumb.jpg")
    assert caught.value.retryable and caught.value.provider == "r2"
    assert caught.value.__cause__ is not None


def test_settings_build_the_store(settings: Settings) -> None:
    configured = settings.model_validate(
        settings.model_dump()
        | {
            "r2_account_id": "0123abcd",
            "r2_access_key_id": "key-id",
            "r2_secret_access_key": "very-secret",
            "r2_bucket": "reels",
            "r2_public_base_url": "https://media.example.com",
            "r2_presign_expiry": 3600,
            "upload_concurrency": 2,
        }
    )
    store = R2BlobStore.from_settings(configured)

    assert store.endpoint_url == "https://0123abcd.r2.cloudflarestorage.com"
    assert (store.bucket, store.public_base_url) == ("reels", "https://media.example.com")
    assert (store.presign_expiry, store.concurrency) == (3600, 2)
    assert "very-secret" not in repr(store)


def test_settings_without_r2_say_what_is_missing(settings: Settings) -> None:
    with pytest.raises(ValueError, match="REELFACTORY_R2_BUCKET.*REELFACTORY_R2_ACCOUNT_ID"):
        R2BlobStore.from_settings(settings)


def test_an_endpoint_is_required() -> None:
    with pytest.raises(ValueError, match="account_id or an endpoint_url"):
        R2BlobStore(bucket="reels", access_key_id="k", secret_access_key="s")


async def test_one_client_for_the_store_lifetime(s3_server: S3Endpoint, tmp_path: Path) -> None:
    path = write(tmp_path / "thumb.jpg", b"x")
    store = R2BlobStore(**s3_server.store_kwargs())
    try:
        # First use opens the client, once, even when several calls race for it.
        await asyncio.gather(*(store.put(f"a/{n}.jpg", path, "image/jpeg") for n in range(4)))
        client = store._client
        assert client is not None
        await store.exists("a/0.jpg")
        await store.url("a/0.jpg")
        assert store._client is client
    finally:
        await store.aclose()
    assert store._client is None


@pytest.mark.parametrize(
    ("status", "code", "headers", "retryable", "retry_after"),
    [
        (503, "ServiceUnavailable", {}, True, None),
        (500, "InternalError", {}, True, None),
        (429, "TooManyRequests", {"retry-after": "3"}, True, 3.0),
        (503, "SlowDown", {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, True, None),
        (400, "RequestTimeout", {}, True, None),
        (403, "AccessDenied", {}, False, None),
        (404, "NoSuchBucket", {}, False, None),
        (400, "InvalidArgument", {}, False, None),
    ],
)
def test_client_errors_map_to_provider_errors(
    status: int, code: str, headers: dict[str, str], retryable: bool, retry_after: float | None
) -> None:
    response = {
        "Error": {"Code": code, "Message": "nope"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers},
    }
    error = _from_client_error(ClientError(response, "PutObject"), "put", "a/b.jpg")
    assert (error.status, error.retryable, error.retry_after) == (status, retryable, retry_after)
    assert str(error) == f"r2: put a/b.jpg: {code} ({status}): nope"
