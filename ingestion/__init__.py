"""Ingestion for the marketplace data platform: source simulators, dlt pipelines and the CLI."""
