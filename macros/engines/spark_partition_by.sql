{#-
    config(partition_by=spark_partition_by('order_month')): the column an incremental
    model's table is partitioned by on Spark, where an incremental run overwrites whole
    partitions (insert_overwrite, with spark.sql.sources.partitionOverwriteMode=dynamic:
    only the partitions the run writes; the others keep their files). None on the other
    engines, which replace rows by key and whose tables stay unpartitioned.

    Order history is partitioned by month (`order_month`, `ship_month`), the clickstream
    by day (`event_date`, `session_date`): a partition is a folder of files that Spark
    writes and lists one by one, and 2,400 days of orders cost minutes at any size
    (docs/engines.md).
-#}
{% macro spark_partition_by(column) %}
{{ return(adapter.dispatch('spark_partition_by', 'marketplace')(column)) }}
{% endmacro %}

{% macro default__spark_partition_by(column) %}
{{ return(none) }}
{% endmacro %}

{% macro spark__spark_partition_by(column) %}
{{ return(column) }}
{% endmacro %}
