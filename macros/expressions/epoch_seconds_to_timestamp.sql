{#- Unix seconds (seconds since 1970-01-01 UTC) as a timestamp (UTC). -#}
{% macro epoch_seconds_to_timestamp(column_name) -%}
{{ dbt.dateadd('second', column_name, "cast('1970-01-01' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}
