"""Kinesis consumer: stream shards → gzip JSON lines in ``landing/clickstream/YYYY/MM/DD/HH/``.

At-least-once with a checkpoint per shard: each micro-batch is written first, then the
shard's last sequence number is saved (``landing/clickstream/_checkpoints/``). A stop
between the two re-reads that micro-batch on the next run and lands it again under the
same file name (shard, first and last sequence number), so even then nothing is doubled.
A replay in other batch sizes (an old checkpoint put back) lands files under new names
and never rewrites a landed file; the processing job counts their events as duplicates.

Runs only when ``CLICKSTREAM_DELIVERY=kinesis``; in the default Firehose mode the
landing files arrive by themselves and there is nothing to consume.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections import defaultdict
from datetime import UTC, datetime

import fsspec
from botocore.exceptions import BotoCoreError, ClientError

from ingestion.errors import PlatformError
from ingestion.pipelines.clickstream import kinesis
from ingestion.settings import Settings

log = logging.getLogger(__name__)

BATCH_RECORDS = 10_000
GET_LIMIT = 1_000


def run(settings: Settings, max_records: int | None = None, batch_records: int = BATCH_RECORDS) -> dict:
    """Land everything new in the stream; ``max_records`` stops early (after whole batches)."""
    landing = settings.zone_url("landing", "clickstream")
    if settings.clickstream_delivery != "kinesis":
        return {"rows": {}, "files": 0, "destination": landing}
    stream = settings.clickstream_stream
    checkpoints = Checkpoints(f"{landing}/_checkpoints/kinesis-{stream}.json")
    try:
        client = kinesis.client(settings)
        shards = _shards(client, stream)
        landed = files = 0
        for shard in shards:
            for batch in _read_shard(client, stream, shard, checkpoints.get(shard), batch_records):
                files += _land(landing, shard, batch)
                checkpoints.set(shard, batch[-1]["SequenceNumber"])
                landed += len(batch)
                if max_records is not None and landed >= max_records:
                    return {"rows": {"events": landed}, "files": files, "destination": landing}
    except (BotoCoreError, ClientError) as exc:
        raise PlatformError(f"cannot read Kinesis stream {stream}: {exc}") from exc
    log.info("clickstream: %d records from %d shards landed in %d files", landed, len(shards), files)
    return {"rows": {"events": landed}, "files": files, "destination": landing}


class Checkpoints:
    """The last landed sequence number of each shard, as one small JSON file in the lake."""

    def __init__(self, url: str):
        self.fs, self.path = fsspec.core.url_to_fs(url)
        self.state: dict[str, str] = {}
        if self.fs.exists(self.path):
            self.state = json.loads(self.fs.cat_file(self.path))

    def get(self, shard: str) -> str | None:
        return self.state.get(shard)

    def set(self, shard: str, sequence: str) -> None:
        self.state[shard] = sequence
        self.fs.makedirs(self.path.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(self.path, json.dumps(self.state, sort_keys=True).encode())


def _shards(client, stream: str) -> list[str]:
    try:
        response = client.list_shards(StreamName=stream)
    except client.exceptions.ResourceNotFoundException as exc:
        raise PlatformError(
            f"Kinesis stream {stream} does not exist: create it (infra) or set CLICKSTREAM_STREAM"
        ) from exc
    shards = [s["ShardId"] for s in response["Shards"]]
    while response.get("NextToken"):
        response = client.list_shards(NextToken=response["NextToken"])
        shards += [s["ShardId"] for s in response["Shards"]]
    return sorted(shards)


def _read_shard(client, stream: str, shard: str, after: str | None, batch_records: int):
    """Micro-batches of records after the checkpoint, until the shard has nothing newer."""
    start = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after}
    if after is None:
        start = {"ShardIteratorType": "TRIM_HORIZON"}
    iterator = client.get_shard_iterator(StreamName=stream, ShardId=shard, **start)["ShardIterator"]
    batch: list[dict] = []
    while iterator:
        response = client.get_records(ShardIterator=iterator, Limit=GET_LIMIT)
        batch += response["Records"]
        while len(batch) >= batch_records:
            yield batch[:batch_records]
            batch = batch[batch_records:]
        if not response["Records"] and not response.get("MillisBehindLatest"):
            break
        iterator = response.get("NextShardIterator")
    if batch:
        yield batch


def _land(landing: str, shard: str, records: list[dict]) -> int:
    """Write a micro-batch as one file per arrival hour; returns the number of files."""
    by_hour: dict[datetime, list[dict]] = defaultdict(list)
    for record in records:
        arrived = record["ApproximateArrivalTimestamp"].astimezone(UTC).replace(tzinfo=None)
        by_hour[arrived.replace(minute=0, second=0, microsecond=0)].append(record)
    fs, base = fsspec.core.url_to_fs(landing)
    for hour, rows in sorted(by_hour.items()):
        name = f"clickstream-kinesis-{shard}-{rows[0]['SequenceNumber']}-{rows[-1]['SequenceNumber']}.json.gz"
        folder = f"{base}/{hour:%Y/%m/%d/%H}"
        fs.makedirs(folder, exist_ok=True)
        payload = b"".join(record["Data"] + b"\n" for record in rows)
        fs.pipe_file(f"{folder}/{name}", gzip.compress(payload, mtime=0))
    return len(by_hour)
