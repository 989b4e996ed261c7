{#-
    Overrides dbt-spark's check of the same name (the root project's macro wins) so that
    a model whose strategy Spark cannot run on plain Parquet (`delete+insert` at all,
    `merge` without Delta/Iceberg/Hudi) still builds when it is built in full: on a
    first run or with --full-refresh the materialization only creates the table, which
    equals applying the strategy to nothing. Into an existing table the strategy really
    has to run, so the error below asks for --full-refresh. The project's own models
    never get there: on Spark they overwrite month or day partitions (insert_overwrite)
    or are tables (keyed_incremental_strategy.sql, keyed_materialization.sql;
    docs/engines.md).
    It also stops an insert_overwrite into an existing table with no partition_by, which
    would replace the whole table with only the rows of this run.
-#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
{%- set merge_formats = ['delta', 'iceberg', 'hudi'] -%}
{%- set needs_merge_format = raw_strategy == 'merge' and file_format not in merge_formats -%}
{%- if raw_strategy == 'delete+insert' or needs_merge_format -%}
{%- if load_relation(this) is none or should_full_refresh() -%}
{{ return(raw_strategy) }}
{%- endif -%}
{%- set message = 'target ' ~ target.name ~ ': ' ~ this ~ ' is incremental (' ~ raw_strategy
    ~ '), which Spark can run only as merge on file_format ' ~ merge_formats | join('/')
    ~ ', not ' ~ file_format ~ '; run `dbt build --full-refresh` to rebuild it in full' -%}
{%- do exceptions.raise_compiler_error(message) -%}
{%- endif -%}
{%- if raw_strategy == 'insert_overwrite' and not config.get('partition_by')
    and load_relation(this) is not none and not should_full_refresh() -%}
{%- do exceptions.raise_compiler_error(
    'target ' ~ target.name ~ ': ' ~ this ~ ' is insert_overwrite without partition_by, which'
    ~ ' would replace the whole table with only the rows of this run; partition it by a date'
    ~ ' (spark_partition_by) or build it as a table (keyed_materialization)'
) -%}
{%- endif -%}
{{ return(dbt.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{% endmacro %}
