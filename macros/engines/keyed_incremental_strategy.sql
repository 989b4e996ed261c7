{#-
    The incremental strategy that replaces rows by `unique_key` on this engine, for a
    model's config(incremental_strategy=keyed_incremental_strategy()). delete+insert on
    DuckDB, PostgreSQL and Redshift (why not merge there: models/marts/core/_core__docs.md);
    merge on Athena (Iceberg tables; it has no delete+insert). Spark's tables are plain
    Parquet, which cannot replace rows, only whole partitions: insert_overwrite, with the
    model partitioned by a month column (spark_partition_by.sql) and writing every row of
    the months it touches (complete_partitions.sql); a keyed model without a date to
    partition by is rebuilt in full there (keyed_materialization.sql).
-#}
{% macro keyed_incremental_strategy() %}
{{ return(adapter.dispatch('keyed_incremental_strategy', 'marketplace')()) }}
{% endmacro %}

{% macro default__keyed_incremental_strategy() %}
{{ return('delete+insert') }}
{% endmacro %}

{% macro athena__keyed_incremental_strategy() %}
{{ return('merge') }}
{% endmacro %}

{% macro spark__keyed_incremental_strategy() %}
{{ return('insert_overwrite') }}
{% endmacro %}
