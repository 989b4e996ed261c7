"""Kinesis Data Streams through boto3; ``AWS_ENDPOINT_URL`` points it at moto's server locally."""

from __future__ import annotations

import time

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ingestion.errors import PlatformError
from ingestion.settings import Settings

PUT_BATCH = 500  # the PutRecords limit
SHARDS = 2


def client(settings: Settings):
    return boto3.client("kinesis", endpoint_url=settings.aws_endpoint_url or None, region_name=settings.aws_region)


def ensure_stream(kinesis, stream: str) -> None:
    """Create the stream locally if it is missing (in AWS, infrastructure code owns it)."""
    try:
        kinesis.describe_stream_summary(StreamName=stream)
        return
    except kinesis.exceptions.ResourceNotFoundException:
        kinesis.create_stream(StreamName=stream, ShardCount=SHARDS)
    for _ in range(60):
        summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == "ACTIVE":
            return
        time.sleep(0.5)
    raise PlatformError(f"Kinesis stream {stream} did not become active")


def put_lines(settings: Settings, lines: list[str]) -> None:
    """Put each line as one record to ``CLICKSTREAM_STREAM``, retrying the records Kinesis throttled."""
    stream = settings.clickstream_stream
    try:
        kinesis = client(settings)
        ensure_stream(kinesis, stream)
        for start in range(0, len(lines), PUT_BATCH):
            pending = [
                {"Data": line.encode(), "PartitionKey": str(start + i)}
                for i, line in enumerate(lines[start : start + PUT_BATCH])
            ]
            for attempt in range(8):
                result = kinesis.put_records(StreamName=stream, Records=pending)
                if not result.get("FailedRecordCount"):
                    break
                pending = [r for r, out in zip(pending, result["Records"], strict=True) if "ErrorCode" in out]
                time.sleep(0.1 * 2**attempt)
            else:
                raise PlatformError(f"Kinesis stream {stream} kept throttling {len(pending)} records")
    except (BotoCoreError, ClientError) as exc:
        raise PlatformError(f"cannot put clickstream events to Kinesis stream {stream}: {exc}") from exc
