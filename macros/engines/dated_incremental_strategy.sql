{#-
    The incremental strategy of a model that rebuilds whole dates (unique_key is its date
    column: the clickstream models, late events): delete+insert, or on Spark, whose
    Parquet tables cannot delete, insert_overwrite of the date partitions
    (spark_partition_by.sql), which the model already writes whole.
-#}
{% macro dated_incremental_strategy() %}
{{ return(adapter.dispatch('dated_incremental_strategy', 'marketplace')()) }}
{% endmacro %}

{% macro default__dated_incremental_strategy() %}
{{ return('delete+insert') }}
{% endmacro %}

{% macro spark__dated_incremental_strategy() %}
{{ return('insert_overwrite') }}
{% endmacro %}
