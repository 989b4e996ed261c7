{#-
    The dbt variable `name` as an integer from `low` to `high`, or a compiler error naming
    it: a var() that is put into SQL text must not carry SQL of its own.

    Example: `{{ integer_var('clickstream_lookback_days', 0, 365) }}`.
-#}
{% macro integer_var(name, low, high) %}
{%- set text = var(name) | string | trim -%}
{#- An integer's text reads back the same: `1; drop table x` | int is 0, not `1; drop table x`. -#}
{%- if (text | int | string) != text or not (low <= text | int <= high) -%}
    {{ exceptions.raise_compiler_error(
        "var " ~ name ~ " is not accepted: choose an integer from " ~ low ~ " to " ~ high
        ~ " (got: " ~ text ~ ")"
    ) }}
{%- endif -%}
{{ return(text | int) }}
{%- endmacro %}
