{#-
    An 8-byte IEEE float on every engine, for ratios. dbt's type_float() is not one: it
    renders `float`, which is 4 bytes on Spark. Dividing two integers as doubles gives the
    same correctly rounded value on every engine, where a numeric division does not: DuckDB
    turns it into a double, Spark keeps 16 digits and PostgreSQL 20.
-#}
{% macro type_double() %}
{{ return(adapter.dispatch('type_double', 'marketplace')()) }}
{% endmacro %}

{% macro default__type_double() %}
{{ return('double precision') }}
{% endmacro %}

{% macro duckdb__type_double() %}
{{ return('double') }}
{% endmacro %}

{% macro spark__type_double() %}
{{ return('double') }}
{% endmacro %}

{% macro athena__type_double() %}
{{ return('double') }}
{% endmacro %}
