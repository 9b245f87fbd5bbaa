"""Blob store on Cloudflare R2 through its S3 API (aioboto3).

One client lives as long as the store. Objects are immutable (a key is never reused for other
content), so every object is served with a year-long ``immutable`` Cache-Control. ``put`` can be
repeated safely: when the object already holds the same bytes and headers it is not sent again,
which makes a resumed job's re-publish cheap.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
from collections.abc import Iterator, Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypedDict
from urllib.parse import quote, urlsplit

import aioboto3
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    ClientError,
    HTTPClientError,
    SSLError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from ..errors import ProviderError

if TYPE_CHECKING:
    from ..settings import Settings

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB  # S3 and R2 refuse smaller parts, except the last one
MAX_PARTS = 10_000
MAX_PRESIGN_EXPIRY = 7 * 24 * 3600  # SigV4 limit
CACHE_CONTROL = "public, max-age=31536000, immutable"
ABORT_TIMEOUT = 15.0
# Error codes worth another try even when their status is 4xx.
RETRYABLE_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "SlowDown", "Throttling"}
    | {"ThrottlingException", "TooManyRequests", "RequestLimitExceeded"}
)


class ObjectInfo(TypedDict):
    size: int
    content_type: str | None
    cache_control: str | None
    etag: str  # without quotes; "<md5 of part md5s>-<parts>" for multipart objects


class R2BlobStore:
    """BlobStore on R2 (or any S3 API with path-style addressing, such as moto in tests)."""

    name = "r2"

    def __init__(
        self,
        *,
        bucket: str,
        access_key_id: str,
        secret_access_key: str,
        account_id: str | None = None,
        endpoint_url: str | None = None,
        public_base_url: str | None = None,
        presign_expiry: int = MAX_PRESIGN_EXPIRY,
        multipart_threshold: int = 8 * MIB,
        multipart_chunksize: int = 8 * MIB,
        concurrency: int = 4,
        max_attempts: int = 3,
    ) -> None:
        if not bucket:
            raise ValueError("R2 needs a bucket name")
        if endpoint_url is None:
            if not account_id:
                raise ValueError("R2 needs an account_id or an endpoint_url")
            endpoint_url = f"https://{account_id}.r2.cloudflarestorage.com"
        if public_base_url is not None:
            parts = urlsplit(public_base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
                raise ValueError(f"public_base_url is not an http(s) base: {public_base_url!r}")
        if not 1 <= presign_expiry <= MAX_PRESIGN_EXPIRY:
            raise ValueError(f"presign_expiry must be 1..{MAX_PRESIGN_EXPIRY} s")
        if multipart_chunksize < MIN_PART_SIZE:
            raise ValueError(f"multipart_chunksize must be at least {MIN_PART_SIZE} bytes")
        if multipart_threshold < 1 or concurrency < 1 or max_attempts < 1:
            raise ValueError("multipart_threshold, concurrency and max_attempts must be >= 1")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.public_base_url = public_base_url
        self.presign_expiry = presign_expiry
        self.multipart_threshold = multipart_threshold
        self.multipart_chunksize = multipart_chunksize
        self.concurrency = concurrency
        self._access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self._config = Config(
            region_name="auto",
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            # Recent botocore adds CRC32 checksums to every put otherwise; Content-MD5 is
            # sent instead (see put), which R2 checks.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            connect_timeout=10,
            read_timeout=60,
        )
        self._client: Any = None
        self._stack: AsyncExitStack | None = None
        self._opening = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> R2BlobStore:
        missing = [
            f"REELFACTORY_R2_{name.upper()}"
            for name in ("bucket", "access_key_id", "secret_access_key")
            if not getattr(settings, f"r2_{name}")
        ]
        if not (settings.r2_account_id or settings.r2_endpoint_url):
            missing.append("REELFACTORY_R2_ACCOUNT_ID (or REELFACTORY_R2_ENDPOINT_URL)")
        if missing:
            raise ValueError(f"R2 storage needs {', '.join(missing)}")
        assert settings.r2_bucket and settings.r2_access_key_id and settings.r2_secret_access_key
        return cls(
            bucket=settings.r2_bucket,
            access_key_id=settings.r2_access_key_id.get_secret_value(),
            secret_access_key=settings.r2_secret_access_key.get_secret_value(),
            account_id=settings.r2_account_id,
            endpoint_url=settings.r2_endpoint_url,
            public_base_url=settings.r2_public_base_url,
            presign_expiry=settings.r2_presign_expiry,
            concurrency=settings.upload_concurrency,
        )

    def __repr__(self) -> str:
        return f"R2BlobStore(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    # --- lifetime

    async def open(self) -> Self:
        """Create the client; idempotent. Other methods open the store on first use too."""
        await self._connect()
        return self

    async def aclose(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        async with self._opening:
            if self._client is None:
                session = aioboto3.Session(
                    aws_access_key_id=self._access_key_id,
                    aws_secret_access_key=self._secret_access_key,
                    region_name="auto",
                )
                async with AsyncExitStack() as stack:
                    client = await stack.enter_async_context(
                        session.client("s3", endpoint_url=self.endpoint_url, config=self._config)
                    )
                    self._stack, self._client = stack.pop_all(), client
            return self._client

    # --- the BlobStore port

    async def put(self, key: str, path: Path, content_type: str) -> None:
        _check_key(key)
        client = await self._connect()
        size = path.stat().st_size
        if size > self.multipart_threshold:
            await self._put_multipart(client, key, path, size, content_type)
            return
        body = await asyncio.to_thread(path.read_bytes)
        if await self._holds(key, len(body), _md5(body).hexdigest(), content_type):
            return
        logger.debug("r2: put %s (%d bytes, %s)", key, len(body), content_type)
        with _translated("put", key):
            await client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentMD5=_content_md5(body),
                ContentType=content_type,
                CacheControl=CACHE_CONTROL,
            )

    async def put_mutable(self, key: str, path: Path, content_type: str, *, max_age: int) -> None:
        """A small object rewritten under the same key (a channel's share page): cached for
        ``max_age`` seconds rather than for ever."""
        _check_key(key)
        client = await self._connect()
        body = await asyncio.to_thread(path.read_bytes)
        logger.debug("r2: put %s (%d bytes, %s, mutable)", key, len(body), content_type)
        with _translated("put", key):
            await client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentMD5=_content_md5(body),
                ContentType=content_type,
                CacheControl=f"public, max-age={max(int(max_age), 0)}",
            )

    async def _holds(self, key: str, size: int, etag: str, content_type: str) -> bool:
        """Whether ``key`` already stores exactly this: then put has nothing to do."""
        wanted = ObjectInfo(
            size=size, content_type=content_type, cache_control=CACHE_CONTROL, etag=etag
        )
        if await self.head(key) == wanted:
            logger.debug("r2: %s is already stored, not sent again", key)
            return True
        return False

    async def url(self, key: str) -> str:
        """The public URL on the custom domain when there is one, else a presigned GET."""
        _check_key(key)
        if self.public_base_url is not None:
            return f"{self.public_base_url.rstrip('/')}/{quote(key, safe='/')}"
        client = await self._connect()
        with _translated("presign", key):
            url: str = await client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=self.presign_expiry,
            )
        return url

    async def exists(self, key: str) -> bool:
        return await self.head(key) is not None

    async def get(self, key: str, path: Path) -> None:
        """Download ``key`` to ``path``: streamed into a ``.part`` file beside it, renamed into
        place once whole (a missing key is a ProviderError with status 404)."""
        _check_key(key)
        client = await self._connect()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.part")
        try:
            with _translated("get", key):
                answer = await client.get_object(Bucket=self.bucket, Key=key)
                body = answer["Body"]
                async with body:  # releases the connection (its __aenter__ gives aiohttp's)
                    with partial.open("wb") as file:
                        async for chunk in body.iter_chunks(MIB):
                            file.write(chunk)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        logger.debug("r2: got %s (%d bytes)", key, path.stat().st_size)

    # --- beyond the port

    async def head(self, key: str) -> ObjectInfo | None:
        """What is stored under ``key``, or None. A missing bucket also reads as None: a HEAD
        answer has no body to tell the two apart."""
        _check_key(key)
        client = await self._connect()
        try:
            with _translated("head", key):
                meta = await client.head_object(Bucket=self.bucket, Key=key)
        except ProviderError as exc:
            if exc.status == 404:
                return None
            raise
        return ObjectInfo(
            size=int(meta["ContentLength"]),
            content_type=meta.get("ContentType"),
            cache_control=meta.get("CacheControl"),
            etag=str(meta.get("ETag", "")).strip('"'),
        )

    async def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""
        _check_key(key)
        client = await self._connect()
        with _translated("delete", key):
            await client.delete_object(Bucket=self.bucket, Key=key)

    # --- multipart

    def _part_size(self, size: int) -> int:
        # Every part but the last has the same size (R2 requires it), and there are at most
        # MAX_PARTS of them.
        return max(self.multipart_chunksize, -(-size // MAX_PARTS))

    async def _put_multipart(
        self, client: Any, key: str, path: Path, size: int, content_type: str
    ) -> None:
        part_size = self._part_size(size)
        etag = await asyncio.to_thread(_multipart_etag, path, part_size)
        if await self._holds(key, size, etag, content_type):
            return
        logger.debug("r2: multipart put %s (%d bytes, %s)", key, size, content_type)
        with _translated("put", key):
            created = await client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type, CacheControl=CACHE_CONTROL
            )
        upload_id: str = created["UploadId"]
        etags: dict[int, str] = {}
        limit = asyncio.Semaphore(self.concurrency)

        async def send(number: int, offset: int) -> None:
            async with limit:
                body = await asyncio.to_thread(_read_range, path, offset, part_size)
                with _translated(f"put part {number} of", key):
                    answer = await client.upload_part(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=body,
                        ContentMD5=_content_md5(body),
                    )
                etags[number] = answer["ETag"]

        try:
            try:
                async with asyncio.TaskGroup() as group:
                    for number, offset in enumerate(range(0, size, part_size), start=1):
                        group.create_task(send(number, offset))
            except BaseExceptionGroup as failures:
                raise _first_failure(failures) from None
            parts = [{"ETag": etags[n], "PartNumber": n} for n in sorted(etags)]
            with _translated("complete", key):
                await client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            # Also on cancellation: unfinished parts are billed storage until aborted.
            await self._abort(client, key, upload_id)
            raise

    async def _abort(self, client: Any, key: str, upload_id: str) -> None:
        # Bounded: this also runs while a cancelled job is shutting down. R2 drops what is left
        # after its multipart lifecycle (7 days by default).
        try:
            async with asyncio.timeout(ABORT_TIMEOUT):
                await client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except Exception as exc:
            logger.warning("r2: could not abort the multipart upload of %s: %s", key, exc)


def _check_key(key: str) -> None:
    if not key or key.startswith("/"):
        raise ValueError(f"not an object key: {key!r}")


def _md5(data: bytes = b"") -> Any:
    return hashlib.md5(data, usedforsecurity=False)


def _content_md5(body: bytes) -> str:
    return base64.b64encode(_md5(body).digest()).decode("ascii")


def _read_range(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as file:
        file.seek(offset)
        return file.read(length)


def _multipart_etag(path: Path, part_size: int) -> str:
    """The ETag S3 and R2 give a multipart object: the MD5 of the parts' MD5s, "-", parts."""
    digests, parts = _md5(), 0
    with path.open("rb") as file:
        while part := file.read(part_size):
            digests.update(_md5(part).digest())
            parts += 1
    return f"{digests.hexdigest()}-{parts}"


def _first_failure(group: BaseExceptionGroup) -> BaseException:
    """The error to report from failed parts: a permanent one if any, since it decides."""
    leaves = list(_leaves(group))
    permanent = [e for e in leaves if isinstance(e, ProviderError) and not e.retryable]
    return (permanent or leaves)[0]


def _leaves(group: BaseExceptionGroup) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc


@contextlib.contextmanager
def _translated(action: str, key: str) -> Iterator[None]:
    """Vendor errors become ProviderError at the boundary, with retryable set honestly."""
    try:
        yield
    except ClientError as exc:
        raise _from_client_error(exc, action, key) from exc
    except SSLError as exc:
        raise ProviderError(f"{action} {key}: {exc}", provider="r2") from exc
    except (BotoConnectionError, HTTPClientError, TimeoutError) as exc:
        message = str(exc) or type(exc).__name__
        raise ProviderError(f"{action} {key}: {message}", provider="r2", retryable=True) from exc


def _from_client_error(exc: ClientError, action: str, key: str) -> ProviderError:
    error = exc.response.get("Error", {})
    meta = exc.response.get("ResponseMetadata", {})
    status = meta.get("HTTPStatusCode")
    code = error.get("Code") or str(status)
    retryable = code in RETRYABLE_CODES or (status is not None and (status >= 500 or status == 429))
    detail = f"{code} ({status})" + (f": {error['Message']}" if error.get("Message") else "")
    return ProviderError(
        f"{action} {key}: {detail}",
        provider="r2",
        retryable=retryable,
        retry_after=_retry_after(meta.get("HTTPHeaders", {})),
        status=status,
    )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    with contextlib.suppress(KeyError, ValueError):
        return max(float(headers["retry-after"]), 0.0)
    return None
