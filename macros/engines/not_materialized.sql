{#-
    `name as {{ not_materialized() }} (select ...)`: a CTE that the query reads more than
    once, inlined into each reference rather than computed once into a temporary result.
    DuckDB materializes every CTE referenced twice, so an import CTE such as
    `select * from {{ ref('fct_order_lines') }}` read by an incremental run's "what
    changed" and "what to rebuild" copied the whole table first (at SF 1, 0.19 of
    fct_orders' 0.3 s on a day with nothing new), where each reference alone reads
    only the columns and row groups it needs. PostgreSQL (12+) takes the same words;
    Redshift, Athena and Spark have no such syntax and inline by themselves.
-#}
{% macro not_materialized() %}
{{ return(adapter.dispatch('not_materialized', 'marketplace')()) }}
{% endmacro %}

{% macro default__not_materialized() %}
{{ return('') }}
{% endmacro %}

{% macro duckdb__not_materialized() %}
{{ return('not materialized') }}
{% endmacro %}

{% macro postgres__not_materialized() %}
{{ return('not materialized') }}
{% endmacro %}

{#- Redshift inherits the postgres__ macros, not this syntax. -#}
{% macro redshift__not_materialized() %}
{{ return('') }}
{% endmacro %}
