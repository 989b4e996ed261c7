"""The clickstream's Kinesis path: the simulator puts events to a stream, the consumer
pipeline (``pipeline.run``) lands them in ``landing/clickstream/`` the way Firehose does."""
