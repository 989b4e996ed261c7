{#-
    The SQL that replaces the marker `__rows_of_this_run__(column)` (run_scope_marker.sql)
    in a test of `relation`: `column > <boundary>` with `tests_scope: run` and a boundary
    recorded for the model in the run-scope table (run_scope_relation.sql); otherwise
    `1 = 1`, every row.
-#}
{% macro rows_of_this_run_predicate(relation, column) %}
{%- if not execute or tests_scope() != 'run' -%}{{ return('1 = 1') }}{%- endif -%}
{%- set boundary = recorded_boundary(
    relation.database, relation.schema, relation.identifier, column
) -%}
{#- A timestamp that remember_run_scope.sql wrote as text; anything else: every row. -#}
{%- if boundary is none or not modules.re.fullmatch('[0-9][0-9: .T+-]*', boundary | string) -%}
{{ return('1 = 1') }}
{%- endif -%}
{{ return(column ~ " > cast('" ~ boundary ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}

{#-
    The SQL that replaces `__event_dates_of_this_run__(column)` (run_scope_marker.sql):
    `column >= <first event date this run rebuilds>`, as recorded in the run-scope table
    beside int_clickstream_events_sessionized; otherwise `1 = 1`, every row.
-#}
{% macro event_dates_of_this_run_predicate(column) %}
{%- if not execute or tests_scope() != 'run' -%}{{ return('1 = 1') }}{%- endif -%}
{%- set model = event_dates_model() -%}
{%- if model is none -%}{{ return('1 = 1') }}{%- endif -%}
{%- set boundary = recorded_boundary(
    model.database, model.schema, model.alias, event_dates_marker()
) -%}
{%- set is_date = modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', boundary | string) -%}
{%- if boundary is none or not is_date -%}
{{ return('1 = 1') }}
{%- endif -%}
{{ return(column ~ " >= cast('" ~ boundary ~ "' as date)") }}
{%- endmacro %}

{#-
    The graph node of int_clickstream_events_sessionized, whose rebuilt dates scope the
    clickstream's tests; none if the project has none.
-#}
{% macro event_dates_model() %}
{%- set name = 'int_clickstream_events_sessionized' -%}
{%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == name -%}
{{ return(node) }}
{%- endfor -%}
{{ return(none) }}
{%- endmacro %}

{#-
    The boundary remember_run_scope.sql recorded for (`model_name`, `column_name`) in the
    run-scope table of `database`.`schema`, as text; none if there is no such table or row.
-#}
{% macro recorded_boundary(database, schema, model_name, column_name) %}
{%- set scope = run_scope_relation(database, schema) -%}
{%- if adapter.get_relation(scope.database, scope.schema, scope.identifier) is none -%}
{{ return(none) }}
{%- endif -%}
{%- set found = run_query(
    "select boundary from " ~ scope ~ " where model_name = '" ~ model_name
    ~ "' and column_name = '" ~ column_name ~ "'"
) -%}
{{ return(found.columns[0].values()[0] if found.rows | length == 1 else none) }}
{%- endmacro %}
