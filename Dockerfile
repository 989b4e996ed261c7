# The ingestion and processing jobs as one image, for ECS on Fargate or AWS Batch: sources
# too big for Lambda and too small for Glue (docs/deploying-to-aws.md, "Container image").
#
#   docker build -t marketplace-jobs .
#   docker run --rm -e LAKE_URL=s3://bucket/prod -e SHOP_DB_URL=postgresql://... marketplace-jobs ingest shop
#
# DuckDB is the only processing engine inside: the Spark engine (pyspark and a Java
# runtime; pyspark alone is 478 MB) runs as the Glue or EMR job instead, so it is left out.
# Settings and secrets arrive as environment variables at run time; none are baked in.

FROM python:3.11.14-slim-bookworm AS builder

ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /src

# The locked dependencies first: this layer is rebuilt only when the lock changes.
# --no-default-groups: neither the dev tools nor Airflow (the scheduler runs the image).
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-default-groups --no-install-project --no-install-package pyspark

# Then the project itself, installed as a wheel so that the venv alone is the application.
COPY README.md ./
COPY ingestion ingestion
COPY processing processing
COPY simulator simulator
COPY marketplace marketplace
COPY dashboards dashboards
RUN uv sync --frozen --no-default-groups --no-editable --no-install-package pyspark


FROM python:3.11.14-slim-bookworm AS runtime

# DATA_DIR holds the run's scratch files (dlt's working folders, a local lake if LAKE_URL
# is unset); on Fargate it is the task's ephemeral storage, on Batch a mounted volume.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data \
    RUNTIME__DLTHUB_TELEMETRY=false \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    DO_NOT_TRACK=1

RUN groupadd --system --gid 10001 marketplace \
    && useradd --system --uid 10001 --gid marketplace --home-dir /data --no-create-home marketplace \
    && mkdir /data \
    && chown marketplace:marketplace /data

COPY --from=builder /opt/venv /opt/venv

# Numeric, so that a platform enforcing non-root (runAsNonRoot, Batch) can check it.
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]

ENTRYPOINT ["marketplace"]
CMD ["--help"]
