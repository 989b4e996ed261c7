{#-
    The run-scope table beside a model (same database and schema): one row per
    (model_name, column_name) with `boundary`, the newest value of that column when the
    last scoped `dbt build`/`dbt run` began, as text. remember_run_scope.sql writes it.
-#}
{% macro run_scope_relation(database, schema) %}
{{ return(api.Relation.create(
    database=database, schema=schema, identifier='dbt_run_scope', type='table'
)) }}
{%- endmacro %}
