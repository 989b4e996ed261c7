{#-
    config(partition_by=partition_by_day('order_date')): the day column an incremental
    model's table is partitioned by on Spark, where an incremental run overwrites whole
    partitions (insert_overwrite, with spark.sql.sources.partitionOverwriteMode=dynamic:
    only the days the run writes; the other days' files stay as they are). None on the
    other engines, which replace rows by key and whose tables stay unpartitioned.
-#}
{% macro partition_by_day(column) %}
{{ return(adapter.dispatch('partition_by_day', 'marketplace')(column)) }}
{% endmacro %}

{% macro default__partition_by_day(column) %}
{{ return(none) }}
{% endmacro %}

{% macro spark__partition_by_day(column) %}
{{ return(column) }}
{% endmacro %}
