{#-
    config(materialized=keyed_materialization()): for a keyed model with no date column
    (customers, parts, suppliers, part-suppliers): incremental, except on Spark. Spark's
    Parquet tables can only overwrite whole partitions, and without a stable date to
    partition by, a day's changed keys are spread over the whole table; nor can Spark
    overwrite an unpartitioned table it reads in the same statement (the rows to keep).
    So there such a model is a table, rebuilt in full on every run (docs/engines.md).
-#}
{% macro keyed_materialization() %}
{{ return(adapter.dispatch('keyed_materialization', 'marketplace')()) }}
{% endmacro %}

{% macro default__keyed_materialization() %}
{{ return('incremental') }}
{% endmacro %}

{% macro spark__keyed_materialization() %}
{{ return('table') }}
{% endmacro %}
