from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipeline.adapters.r2 import R2BlobStore
from pipeline.app import App
from pipeline.providers import build_offline
from pipeline.settings import Settings
from tests.fakes.s3 import S3Endpoint, moto_s3, s3_server

from .helpers import make_clip

__all__ = ["moto_s3", "s3_server"]  # fixtures, used by name


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three short 720x1280 reels of different colours, made once."""
    root = tmp_path_factory.mktemp("clips")

    async def make() -> list[Path]:
        return [await make_clip(root / c, c) for c in ("teal", "orange", "purple")]

    return asyncio.run(make())


@pytest.fixture
async def cdn_app(settings: Settings, s3_server: S3Endpoint) -> AsyncIterator[App]:
    """An app whose store is R2 on moto, public at moto's path-style bucket URL (anyone
    may read, as from an R2 bucket with public access)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{s3_server.bucket}/*",
            }
        ],
    }
    async with s3_server.client() as s3:
        await s3.put_bucket_policy(Bucket=s3_server.bucket, Policy=json.dumps(policy))
    store = R2BlobStore(
        **s3_server.store_kwargs(),
        public_base_url=f"{s3_server.endpoint_url}/{s3_server.bucket}",
    )
    providers = build_offline(settings)
    providers.store = store
    app = await App.open(settings, providers)
    try:
        yield app
    finally:
        await app.close()
        await store.aclose()
