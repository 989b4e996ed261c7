{#-
    The dbt variable `tests_scope`: `all` (every row, the default) or `run` (only the rows
    this run wrote into incremental models; see run_scope_marker.sql), or a compiler error.
-#}
{% macro tests_scope() %}
{%- set scope = var('tests_scope', 'all') | string | trim -%}
{%- if scope not in ['all', 'run'] -%}
    {{ exceptions.raise_compiler_error(
        "var tests_scope is not accepted: choose all or run (got: " ~ scope ~ ")"
    ) }}
{%- endif -%}
{{ return(scope) }}
{%- endmacro %}
