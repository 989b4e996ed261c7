"""Spark jobs (Glue/EMR-ready) and their DuckDB twins for small inputs."""
