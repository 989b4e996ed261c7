{#-
    Overrides dbt-spark's macro of the same name (the root project's macro wins) for the
    models partitioned on Spark (spark_partition_by.sql): their rows are first shuffled
    by the partition column, so each partition (a month, a day) is written by one task,
    as one file. Without it every task writes a file into every partition it holds rows
    for: shuffle partitions x partitions small files, each one opened, written and
    listed. The same statement feeds the temporary view of an incremental run
    (insert_overwrite), so a rewritten partition is one file too.
-#}
{% macro spark__create_table_as(temporary, relation, compiled_code, language='sql') %}
{%- set partition_by = config.get('partition_by') -%}
{%- if language == 'sql' and partition_by -%}
{%- set columns = [partition_by] if partition_by is string else partition_by -%}
{%- set compiled_code -%}
select /*+ REPARTITION({{ columns | join(', ') }}) */ *
from (
{{ compiled_code }}
) as one_file_per_partition
{%- endset -%}
{%- endif -%}
{{ return(dbt.spark__create_table_as(temporary, relation, compiled_code, language)) }}
{% endmacro %}
