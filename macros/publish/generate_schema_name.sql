{#-
    dbt's own schema naming (the target's schema, or `<target schema>_<custom schema>`)
    plus the var `publish_schema_suffix`, empty unless `marketplace publish` builds into
    staging schemas on PostgreSQL: there every schema of the build gets the suffix
    (`analytics__staging`, `analytics_seeds__staging`, ...), and the publish renames them
    into place once every test passed. The suffix becomes part of a schema name in SQL,
    so only letters, digits and underscores are accepted.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
{%- set suffix = var('publish_schema_suffix', '') | string -%}
{%- if modules.re.fullmatch('[A-Za-z0-9_]*', suffix) is none -%}
    {{ exceptions.raise_compiler_error(
        "var publish_schema_suffix is not accepted: use letters, digits and underscores (got: " ~ suffix ~ ")"
    ) }}
{%- endif -%}
{%- set custom = '' if custom_schema_name is none else '_' ~ (custom_schema_name | trim) -%}
{{ target.schema ~ custom ~ suffix }}
{%- endmacro %}
