{#-
    The values dbt puts into SQL text from outside the project, checked before a run's
    first statement (the first on-run-start hook): every source's schema and the target's
    schema are plain identifiers, and the lake's URL (var lake_url, or LAKE_URL / DATA_DIR)
    cannot close the quotes it is put between. `marketplace` commands check the same
    settings when they load them (ingestion/settings.py); this covers a bare `dbt` run.
    A bad value is a compiler error naming it, and nothing runs.
-#}
{% macro check_sql_inputs() %}
{%- if not execute -%}{{ return('') }}{%- endif -%}
{%- set identifier = modules.re.compile('^[A-Za-z_][A-Za-z0-9_]*$') -%}
{%- set target_what = 'the target schema (profiles.yml: PG_SCHEMA, SPARK_SCHEMA, ...)' -%}
{%- set names = [(target_what, target.schema)] -%}
{%- for source_node in graph.sources.values() -%}
{%- set what = 'the schema of source ' ~ source_node.source_name ~ ' (its *_SCHEMA variable)' -%}
{%- do names.append((what, source_node.schema)) -%}
{%- endfor -%}
{%- set rule = ' is not accepted: use letters, digits and _ only, not starting with a digit' -%}
{%- for what, value in names -%}
{%- if value and not identifier.match(value | string) -%}
{{ exceptions.raise_compiler_error(what ~ rule ~ " (got: " ~ value ~ ")") }}
{%- endif -%}
{%- endfor -%}
{%- set lake = lake_url_value() -%}
{%- if modules.re.search("['\"\\\\;\\x00-\\x1f]", lake) -%}
{{ exceptions.raise_compiler_error(
    "the lake URL (var lake_url, or LAKE_URL / DATA_DIR) is not accepted: it holds a quote, "
    ~ "backslash, ; or control character (got: " ~ (lake | replace('\n', '\\n'))
    ~ "); percent-encode them in a URL"
) }}
{%- endif -%}
{{ return('') }}
{%- endmacro %}

{#- The lake URL the sources read: var lake_url, unless it is the project's default. -#}
{% macro lake_url_value() %}
{%- set value = var('lake_url') | string -%}
{%- if '{{' in value -%}
{%- set value = env_var('LAKE_URL', env_var('DATA_DIR', 'data') ~ '/lake') -%}
{%- endif -%}
{{ return(value) }}
{%- endmacro %}
