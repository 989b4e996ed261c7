{#-
    Salted SHA-256 of `expression` as 64 lower-case hex digits: SHA-256 of the UTF-8 bytes
    of salt || value, the same on every engine, so a name hashes alike everywhere with the
    same salt. Null stays null. Called through pii(), which reads the column's meta.
-#}
{% macro pii_hash(expression) %}
{{- return(adapter.dispatch('pii_hash', 'marketplace')(expression)) -}}
{%- endmacro %}

{% macro default__pii_hash(expression) -%}
encode(sha256(convert_to({{ pii_salt() }} || {{ expression }}, 'UTF8')), 'hex')
{%- endmacro %}

{% macro duckdb__pii_hash(expression) -%}
sha256({{ pii_salt() }} || {{ expression }})
{%- endmacro %}

{% macro redshift__pii_hash(expression) -%}
sha2({{ pii_salt() }} || {{ expression }}, 256)
{%- endmacro %}

{% macro athena__pii_hash(expression) -%}
lower(to_hex(sha256(to_utf8({{ pii_salt() }} || {{ expression }}))))
{%- endmacro %}

{% macro spark__pii_hash(expression) -%}
sha2(concat({{ pii_salt() }}, {{ expression }}), 256)
{%- endmacro %}
