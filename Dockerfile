# Everything the pipeline needs ships in wheels (ffmpeg, espeak-ng, fonts): no apt packages.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 REELFACTORY_DATA_DIR=/data
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY bot ./bot
COPY scheduler ./scheduler
COPY storage ./storage
COPY locales ./locales
RUN pip install --no-cache-dir .
VOLUME ["/data"]
ENTRYPOINT ["reelfactory"]
CMD ["serve"]
