{#-
    dbt's get_where_subquery (how a test's `where` config narrows the model it tests),
    plus the run scope: each `__rows_of_this_run__(column)` and `__event_dates_of_this_run__(column)`
    in the `where` (run_scope_marker.sql) becomes, when the test runs, a comparison with
    a literal boundary (so DuckDB, Parquet and Redshift skip the older blocks by their
    min/max, and DuckDB the lake's older `event_date=` folders), or `1 = 1` when every
    row is to be checked.
-#}
{% macro get_where_subquery(relation) -%}
{%- set scoped = namespace(where=config.get('where', '')) -%}
{%- set pattern = run_scope_marker() ~ '\(([a-z_][a-z0-9_]*)\)' -%}
{%- for column in modules.re.findall(pattern, scoped.where or '') -%}
{%- set marker = run_scope_marker() ~ '(' ~ column ~ ')' -%}
{%- set predicate = rows_of_this_run_predicate(relation, column) -%}
{%- set scoped.where = scoped.where | replace(marker, predicate) -%}
{%- endfor -%}
{%- set pattern = event_dates_marker() ~ '\(([a-z_][a-z0-9_]*)\)' -%}
{%- for column in modules.re.findall(pattern, scoped.where or '') -%}
{%- set marker = event_dates_marker() ~ '(' ~ column ~ ')' -%}
{%- set scoped.where = scoped.where | replace(marker, event_dates_of_this_run_predicate(column)) -%}
{%- endfor -%}
{%- if scoped.where -%}
{%- set filtered -%}
(select * from {{ relation }} where {{ scoped.where }}) dbt_subquery
{%- endset -%}
{%- do return(filtered) -%}
{%- else -%}
{%- do return(relation) -%}
{%- endif -%}
{%- endmacro %}
