{#-
    Make the lake's files queryable as the sources' tables where the engine has no
    other way to read them: run as on-run-start. DuckDB reads `external_location`
    directly and pg/Redshift/Athena get their raw tables from dlt, so only Spark needs
    this: it registers each source the run selects as an external table over the same
    folder that `external_location` reads, so that one path per source serves both.
    Recreated every run, because Spark infers the schema (and lists files) at creation.
-#}
{% macro create_lake_sources() %}
{{ return(adapter.dispatch('create_lake_sources', 'marketplace')()) }}
{% endmacro %}

{% macro default__create_lake_sources() %}
{{ return('') }}
{% endmacro %}

{#- Spark runs one statement per call, so each runs here and the hook itself is empty. -#}
{% macro spark__create_lake_sources() %}
{%- if not execute -%}{{ return('') }}{%- endif -%}
{%- set statements = [] -%}
{%- set schemas = [] -%}
{%- for source_node in selected_lake_sources() -%}
{%- set location = lake_source_location(source_node) -%}
{%- if location is not none -%}
{%- if source_node.schema not in schemas -%}
{%- do schemas.append(source_node.schema) -%}
{%- do statements.append('create schema if not exists ' ~ source_node.schema) -%}
{%- endif -%}
{%- set relation = source_node.schema ~ '.' ~ source_node.identifier -%}
{%- do statements.append('drop table if exists ' ~ relation) -%}
{%- set merge_schema = ", mergeSchema 'true'" if location.format == 'parquet' else '' -%}
{%- set recursive = ", recursiveFileLookup 'true'" if location.recursive else '' -%}
{%- set options = "options (path '" ~ location.path ~ "'" ~ merge_schema ~ recursive ~ ')' -%}
{%- set create = 'create table ' ~ relation ~ ' using ' ~ location.format ~ ' ' ~ options -%}
{%- do statements.append(create) -%}
{%- if location.hive -%}
{#- The catalog lists no partition of a table created over existing folders until asked. -#}
{%- do statements.append('alter table ' ~ relation ~ ' recover partitions') -%}
{%- endif -%}
{%- endif -%}
{%- endfor -%}
{%- for statement in statements -%}
{%- do run_query(statement) -%}
{%- endfor -%}
{{ return('') }}
{% endmacro %}
