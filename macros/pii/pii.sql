{#-
    The one place the PII policy is applied (docs/security.md, "PII in the marts").
    `expression` is the raw value; `column` the output column, whose YAML says how the
    value is transformed with `meta: {pii: hash}` (a salted SHA-256, macros/pii/pii_hash.sql)
    or `meta: {pii: mask}` (all but the last two characters starred, pii_mask.sql).
    A column without a pii meta is a compiler error: PII never passes through by default.

    Example: `{{ pii('customers.customer_name', 'customer_name') }}` renders
    `<hash of customers.customer_name> as customer_name`.
-#}
{% macro pii(expression, column) %}
{%- set policies = {'hash': pii_hash, 'mask': pii_mask} -%}
{#- The YAML's columns are attached after the SQL is parsed: look only when executing. -#}
{%- if not execute -%}
{{ return(expression ~ ' as ' ~ column) }}
{%- endif -%}
{#- A unit test knows neither its model's YAML nor the graph: it gets the hash, and the
    model itself is held to its YAML when it builds. -#}
{%- if model.resource_type == 'unit_test' -%}
{{ return(pii_hash(expression) ~ ' as ' ~ column) }}
{%- endif -%}
{%- set declared = model.columns.get(column, {}) -%}
{%- set meta = declared.get('meta') or declared.get('config', {}).get('meta') or {} -%}
{%- set policy = meta.get('pii') -%}
{%- if policy not in policies -%}
    {{ exceptions.raise_compiler_error(
        "column " ~ column ~ " of " ~ model.name ~ " goes through pii() but its YAML has no "
        ~ "meta pii: hash or mask (got: " ~ policy ~ "); see docs/security.md"
    ) }}
{%- endif -%}
{{ return(policies[policy](expression) ~ ' as ' ~ column) }}
{%- endmacro %}
