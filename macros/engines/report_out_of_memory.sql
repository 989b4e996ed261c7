{#- on-run-end: when DuckDB ran out of memory in a node (what it cannot spill to its
    temp_directory fails the query), one line naming the nodes and the settings to change,
    after dbt's own error. Nothing on other engines, or when no node ran out of memory. -#}
{% macro report_out_of_memory(results) %}
{%- if execute and target.type == 'duckdb' -%}
{%- set nodes = [] -%}
{%- for result in results -%}
{%- if result.status in ('error', 'fail') and 'Out of Memory Error' in (result.message or '') -%}
{%- do nodes.append(result.node.name) -%}
{%- endif -%}
{%- endfor -%}
{%- if nodes -%}
{%- set limits = run_query(
    "select current_setting('memory_limit'), current_setting('temp_directory')"
).rows[0] -%}
{{ log(
    "DuckDB ran out of memory in " ~ nodes | join(", ") ~ " at DUCKDB_MEMORY_LIMIT="
    ~ env_var('DUCKDB_MEMORY_LIMIT', limits[0]) ~ ": raise DUCKDB_MEMORY_LIMIT, or free disk under "
    ~ "DUCKDB_TEMP_DIRECTORY=" ~ limits[1] ~ " where it spills",
    info=True
) }}
{%- endif -%}
{%- endif -%}
{{ return('') }}
{%- endmacro %}
