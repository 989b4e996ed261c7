"""The clickstream's Kinesis path: the web apps (or the simulator) put events to a stream, the consumer
pipeline (``pipeline.run``) lands them in ``landing/clickstream/`` the way Firehose does."""
