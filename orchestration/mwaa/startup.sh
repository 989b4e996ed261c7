#!/bin/sh
# MWAA runs this on every Airflow component before it starts (the environment's
# StartupScriptS3Path): the settings the DAG's tasks read, as on any other machine
# (docs/settings.md). Edit the values, upload it beside requirements.txt. No secret here:
# SHOP_DB_URL and SOURCES__PAYMENTS__TOKEN come from Secrets Manager when the worker starts.
export DAG_SIMULATED_SOURCES=false
export DBT_TARGET=athena
export LAKE_URL=s3://acme-marketplace-lake/prod
export AWS_REGION=eu-west-1
export ATHENA_S3_STAGING_DIR=s3://acme-athena-results/dbt/
export ATHENA_S3_DATA_DIR=s3://acme-marketplace-lake/prod/warehouse/
export ATHENA_SCHEMA=analytics
export ATHENA_WORK_GROUP=marketplace
export SOURCES__PAYMENTS__BASE_URL=https://payments.example.com
# dbt's scratch space: the dags folder is a copy of the bucket, rewritten on every sync.
export DBT_LOG_PATH=/tmp/dbt-logs
export RUNTIME__DLTHUB_TELEMETRY=false DBT_SEND_ANONYMOUS_USAGE_STATS=false DO_NOT_TRACK=1
export PROVIDERS__ENABLE_AIRFLOW_SECRETS=false

secret() { aws secretsmanager get-secret-value --secret-id "$1" --query SecretString --output text; }
if [ "${MWAA_AIRFLOW_COMPONENT:-}" = worker ]; then
  SHOP_DB_URL="$(secret marketplace/shop-db-url)"
  SOURCES__PAYMENTS__TOKEN="$(secret marketplace/payments-token)"
  export SHOP_DB_URL SOURCES__PAYMENTS__TOKEN
fi
