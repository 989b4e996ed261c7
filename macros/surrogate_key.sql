{#-
    A stable hash of one or more columns, for keys that TPC-H spreads over several
    columns (an order line is order + line number). Nulls become a marker so that
    (null, 1) and ('', 1) hash differently; the separator keeps ('1', '23') apart from
    ('12', '3'). Same idea as dbt_utils.generate_surrogate_key, which we cannot install.
-#}
{%- macro surrogate_key(columns) -%}
{%- set parts = [] -%}
{%- for column in columns -%}
{%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
{%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
{%- endfor -%}
{{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro -%}
