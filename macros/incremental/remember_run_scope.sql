{#-
    on-run-start: with `tests_scope: run`, a `dbt build` or `dbt run` first records, for
    every incremental model that a test limits with `__rows_of_this_run__(column)`
    (run_scope_marker.sql), the newest value of that column (run_scope_relation.sql).
    The tests then check only the rows above it, the rows this run writes. (A load
    committed in the very microsecond of the newest one merged before would go
    unchecked until the next full build.)
    A --full-refresh run drops the table, so that its tests check every row; a run with
    `tests_scope: all` leaves it alone. A later `dbt test --vars '{tests_scope: run}'`
    keeps the boundaries of the last scoped build, so it checks what that build wrote.
    For the clickstream's tests (`__event_dates_of_this_run__(column)`) it records the
    first event date that int_clickstream_events_sessionized rebuilds in this run.
    Athena records nothing (its CTAS needs a location per table): there every test
    checks every row.
-#}
{% macro remember_run_scope() %}
{{ return(adapter.dispatch('remember_run_scope', 'marketplace')()) }}
{% endmacro %}

{% macro default__remember_run_scope() %}
{%- if not execute or tests_scope() != 'run' or flags.WHICH not in ['build', 'run'] -%}
{{ return('') }}
{%- endif -%}
{%- set pattern = run_scope_marker() ~ '\(([a-z_][a-z0-9_]*)\)' -%}
{#- (database, schema) -> one select per scoped model there -#}
{%- set by_schema = {} -%}
{%- set seen = [] -%}
{%- set event_dates = namespace(marked=false) -%}
{%- for test_node in graph.nodes.values() if test_node.resource_type == 'test' -%}
{%- if event_dates_marker() ~ '(' in (test_node.config.get('where') or '') -%}
{%- set event_dates.marked = true -%}
{%- endif -%}
{#- Tests of models only: a source's tests check every row. -#}
{%- if test_node.attached_node in graph.nodes -%}
{%- set model_node = graph.nodes[test_node.attached_node] -%}
{%- set key = (model_node.database, model_node.schema) -%}
{%- for column in modules.re.findall(pattern, test_node.config.get('where') or '') -%}
{%- do by_schema.setdefault(key, []) -%}
{%- set pair = model_node.alias ~ '.' ~ column -%}
{#- Only an incremental model keeps rows from earlier runs; any other: every row. -#}
{%- set incremental = model_node.config.materialized == 'incremental' -%}
{%- if incremental and column in model_node.columns and pair not in seen -%}
{%- do seen.append(pair) -%}
{%- set relation = adapter.get_relation(key[0], key[1], model_node.alias) -%}
{#- Not yet a table with that column (a view the model used to be, or a table from
    before the column was added): this run rebuilds it, so every row. (The columns from
    an empty select: adapter.get_columns_in_relation opens a transaction on DuckDB that
    dbt rolls back after the hooks, and the table below with it.) -#}
{%- if relation is not none and relation.is_table and not flags.FULL_REFRESH -%}
{%- set columns = run_query('select * from ' ~ relation ~ ' where 1 = 0').column_names -%}
{%- if column in columns | map('lower') | list -%}
{%- do by_schema[key].append(
    run_scope_row(model_node.alias, column, 'max(' ~ column ~ ')') ~ ' from ' ~ relation
) -%}
{%- endif -%}
{%- endif -%}
{%- endif -%}
{%- endfor -%}
{%- endif -%}
{%- endfor -%}
{#- The clickstream's tests (event_dates_marker): the first event date this run rebuilds. -#}
{%- set model_node = event_dates_model() -%}
{%- if event_dates.marked and model_node is not none -%}
{%- set key = (model_node.database, model_node.schema) -%}
{%- do by_schema.setdefault(key, []) -%}
{%- set relation = adapter.get_relation(key[0], key[1], model_node.alias) -%}
{%- set events = graph.nodes.get('model.marketplace.stg_clickstream__events') -%}
{%- set landed = none -%}
{%- if events -%}
{%- set landed = adapter.get_relation(events.database, events.schema, events.alias) -%}
{%- endif -%}
{%- if relation is not none and landed is not none and not flags.FULL_REFRESH -%}
{%- set lookback_days = integer_var('clickstream_lookback_days', 0, 365) -%}
{%- set first_date = clickstream_rebuild_from(
    relation, 'event_date', landed, lookback_days, 0
) -%}
{%- if first_date is not none -%}
{%- do by_schema[key].append(
    run_scope_row(model_node.alias, event_dates_marker(), "'" ~ first_date ~ "'")
) -%}
{%- endif -%}
{%- endif -%}
{%- endif -%}
{%- for key, selects in by_schema.items() -%}
{%- set scope = run_scope_relation(key[0], key[1]) -%}
{%- set existing = adapter.get_relation(key[0], key[1], scope.identifier) -%}
{%- if existing is not none -%}{%- do adapter.drop_relation(existing) -%}{%- endif -%}
{%- if selects -%}
{%- do run_query('create table ' ~ scope ~ ' as ' ~ (selects | join(' union all '))) -%}
{%- do adapter.cache_added(scope) -%}
{%- endif -%}
{%- endfor -%}
{{ return('') }}
{%- endmacro %}

{#-
    One row of the run-scope table; `boundary` is SQL: a literal, or an aggregate that the
    caller follows with its `from`.
-#}
{% macro run_scope_row(model_name, column_name, boundary) %}
{%- set text = dbt.type_string() -%}
{{ return(
    "select cast('" ~ model_name ~ "' as " ~ text ~ ") as model_name, "
    ~ "cast('" ~ column_name ~ "' as " ~ text ~ ") as column_name, "
    ~ "cast(" ~ boundary ~ " as " ~ text ~ ") as boundary"
) }}
{%- endmacro %}

{% macro athena__remember_run_scope() %}
{{ return('') }}
{% endmacro %}
