# Everything the pipeline needs ships in wheels (ffmpeg, espeak-ng, fonts): no apt packages.
# Stage 1 builds the project's wheel; stage 2 installs it (no dev dependencies, no sources)
# and runs the bot as an unprivileged user, its database and media on the /data volume.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY pipeline ./pipeline
COPY bot ./bot
COPY scheduler ./scheduler
COPY storage ./storage
COPY locales ./locales
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REELFACTORY_DATA_DIR=/data \
    REELFACTORY_LOG_FORMAT=json \
    REELFACTORY_HTTP_PORT=8080
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin reel \
    && mkdir -p /data && chown reel:reel /data
USER reel
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# 200 only while every front is connected and the scheduler runs (bot.endpoints).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('REELFACTORY_HTTP_PORT', '8080') + '/healthz', timeout=4)"]
ENTRYPOINT ["reelfactory"]
CMD ["serve"]
