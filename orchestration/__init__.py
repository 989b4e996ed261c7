"""The daily cycle on a scheduler: the Airflow DAG ``marketplace_daily`` (dags/) and its helpers.

Airflow runs the same commands as ``make run`` (``marketplace ingest``, ``marketplace
process``, dbt through astronomer-cosmos, ``dbt source freshness``), with the same settings,
read through ``ingestion.settings``. ``mwaa/`` holds what Amazon MWAA installs.
"""
