"""Ingestion for the marketplace data platform: dlt pipelines, one package per source, and the settings."""
