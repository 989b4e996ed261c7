{#-
    The incremental strategy that replaces rows by `unique_key` on this engine, for a
    model's config(incremental_strategy=keyed_incremental_strategy()). delete+insert on
    DuckDB, PostgreSQL and Redshift (why not merge there: models/marts/core/_core__docs.md);
    merge on Athena (Iceberg tables; it has no delete+insert) and Spark (Delta/Iceberg).
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
{{ return('merge') }}
{% endmacro %}
