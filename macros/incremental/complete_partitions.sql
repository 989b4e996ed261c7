{#-
    CTE `<as>`: the rows of `rows_cte`, the new versions an incremental run writes, keyed
    by `unique_key` (a column, or a list of columns). On Spark, whose incremental runs
    overwrite whole partitions of `partition_column` (spark_partition_by.sql), `<as>` adds
    every row already in {{ this }} in the partitions those rows fall in, or leave (a key
    whose partition changed), and whose key they do not replace, so each overwritten
    partition comes back whole; helper CTE `<as>_partitions` lists those partitions.
    Elsewhere, and on a full build, `<as>` is `rows_cte`: the engine replaces rows by key
    (delete+insert, merge).

    Example: `{{ complete_partitions('priced', 'order_line_id', 'order_month', as='final') }}`,
    then `select * from final`.
-#}
{% macro complete_partitions(rows_cte, unique_key, partition_column, as) %}
{{ return(adapter.dispatch('complete_partitions', 'marketplace')(
    rows_cte, unique_key, partition_column, as
)) }}
{% endmacro %}

{% macro default__complete_partitions(rows_cte, unique_key, partition_column, as) %}
{{ as }} as (
    select * from {{ rows_cte }}
)
{%- endmacro %}

{% macro spark__complete_partitions(rows_cte, unique_key, partition_column, as) %}
{%- if not (is_incremental() and config.get('partition_by')) -%}
{{ default__complete_partitions(rows_cte, unique_key, partition_column, as) }}
{%- else -%}
{#- Both halves list the table's columns in its order: Spark puts partition columns last. -#}
{%- set names = [] -%}
{%- set kept = [] -%}
{%- if execute -%}
{%- for column in adapter.get_columns_in_relation(this) -%}
{%- do names.append(column.name) -%}
{%- do kept.append('this_model.' ~ column.name) -%}
{%- endfor -%}
{%- endif -%}
{%- set keys = [unique_key] if unique_key is string else unique_key -%}
{#- this_model's key equals the key of the new rows / of the replacing row -#}
{%- set same_key_as_rows = [] -%}
{%- set same_key_as_replaced = [] -%}
{%- for key in keys -%}
{%- do same_key_as_rows.append('this_model.' ~ key ~ ' = ' ~ rows_cte ~ '.' ~ key) -%}
{%- do same_key_as_replaced.append('this_model.' ~ key ~ ' = ' ~ as ~ '_replaced.' ~ key) -%}
{%- endfor -%}
{{ as }}_partitions as (
    select {{ rows_cte }}.{{ partition_column }}
    from {{ rows_cte }}

    union

    select this_model.{{ partition_column }}
    from {{ this }} as this_model
    inner join {{ rows_cte }}
        on {{ same_key_as_rows | join(' and ') }}
),

{{ as }} as (
    select {{ names | join(', ') if names else '*' }}
    from {{ rows_cte }}

    union all

    select {{ kept | join(', ') if kept else 'this_model.*' }}
    from {{ this }} as this_model
    inner join {{ as }}_partitions
        on this_model.{{ partition_column }} = {{ as }}_partitions.{{ partition_column }}
    left join {{ rows_cte }} as {{ as }}_replaced
        on {{ same_key_as_replaced | join(' and ') }}
    where {{ as }}_replaced.{{ keys[0] }} is null
)
{%- endif %}
{%- endmacro %}
