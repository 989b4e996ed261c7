{#-
    The salt of pii_hash(), as a SQL expression that reads it at run time: the value is
    never part of the compiled SQL (docs/security.md says how each engine gets it).

    - duckdb: the variable marketplace/pii_salt.py sets on each cursor from PII_SALT;
    - postgres: the setting marketplace.pii_salt (PGOPTIONS='-c marketplace.pii_salt=...',
      or ALTER ROLE ... SET marketplace.pii_salt);
    - spark: the driver's environment variable PII_SALT (reflect on System.getenv, which
      gives the text 'null' when it is unset);
    - redshift, athena: the one row of the table named by var pii_salt_table, which only
      dbt's role may read.

    Where no salt is set, the targets listed in var pii_local_salt_targets (the local ones)
    use the public var pii_local_salt; any other target stops with an error naming PII_SALT.
-#}
{% macro pii_salt() %}
{{- return(adapter.dispatch('pii_salt', 'marketplace')()) -}}
{%- endmacro %}

{% macro pii_salt_missing() %}
{%- if target.name in var('pii_local_salt_targets') -%}
{{ return("'" ~ var('pii_local_salt') | replace("'", "''") ~ "'") }}
{%- endif -%}
{{ return(none) }}
{%- endmacro %}

{% macro pii_salt_error_text() -%}
PII_SALT is not set: the PII hashes need a salt on target {{ target.name }} (docs/security.md)
{%- endmacro %}

{% macro default__pii_salt() -%}
{#- current_setting of an unknown name fails naming it, the only error plain SQL can raise here. -#}
coalesce(
    nullif(current_setting('marketplace.pii_salt', true), ''),
    {{ pii_salt_missing() or "current_setting('" ~ pii_salt_error_text() ~ "')" }}
)
{%- endmacro %}

{#- error() is typed NULL: uncast, DuckDB folds `null || value` to null before it raises. -#}
{% macro duckdb__pii_salt() -%}
coalesce(nullif(getvariable('pii_salt'), ''), {{ pii_salt_missing() or "cast(error('" ~ pii_salt_error_text() ~ "') as varchar)" }})
{%- endmacro %}

{% macro spark__pii_salt() -%}
coalesce(
    nullif(nullif(reflect('java.lang.System', 'getenv', 'PII_SALT'), 'null'), ''),
    {{ pii_salt_missing() or "cast(raise_error('" ~ pii_salt_error_text() ~ "') as string)" }}
)
{%- endmacro %}

{% macro redshift__pii_salt() -%}
(select max(salt) from {{ var('pii_salt_table') }})
{%- endmacro %}

{% macro athena__pii_salt() -%}
coalesce((select max(salt) from {{ var('pii_salt_table') }}), fail('{{ pii_salt_error_text() }}'))
{%- endmacro %}
