{#-
    The SQL that replaces the marker `__rows_of_this_run__(column)` (run_scope_marker.sql)
    in a test of `relation`: `column > <boundary>` with `tests_scope: run` and a boundary
    recorded for the model in the run-scope table (run_scope_relation.sql); otherwise
    `1 = 1`, every row.
-#}
{% macro rows_of_this_run_predicate(relation, column) %}
{%- if not execute or tests_scope() != 'run' -%}{{ return('1 = 1') }}{%- endif -%}
{%- set scope = run_scope_relation(relation.database, relation.schema) -%}
{%- if adapter.get_relation(scope.database, scope.schema, scope.identifier) is none -%}
{{ return('1 = 1') }}
{%- endif -%}
{%- set found = run_query(
    "select boundary from " ~ scope ~ " where model_name = '" ~ relation.identifier
    ~ "' and column_name = '" ~ column ~ "'"
) -%}
{%- set boundary = found.columns[0].values()[0] if found.rows | length == 1 else none -%}
{#- A timestamp that remember_run_scope.sql wrote as text; anything else: every row. -#}
{%- if boundary is none or not modules.re.fullmatch('[0-9][0-9: .T+-]*', boundary | string) -%}
{{ return('1 = 1') }}
{%- endif -%}
{{ return(column ~ " > cast('" ~ boundary ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}
