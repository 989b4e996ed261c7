{#-
    CTE `<as>`: the newest version of each key among the rows of `versions_cte` (every
    changed source row lands as one more raw row), by `updated_at`, ties broken by
    `_loaded_load_id` (fixed-width epoch strings, so they order as text). `<as>` has the
    columns of `versions_cte`, in its order.

    Helper CTEs: `<as>_ranked` counts and ranks only the key, `updated_at` and
    `_loaded_load_id` of each version (narrow rows to sort, not whole ones) and `<as>_keys`
    keeps the newest; `<as>` joins the whole rows back to them. Rows tied on all of these
    (the same record twice in one load) are the same version and come out once: only
    those go through a `distinct`, which over whole rows is the costliest step there is
    (at SF 10 it spilled 34 GB and took 9 of the build's 11 minutes). The key columns,
    `updated_at` and `_loaded_load_id` must not be null.

    On an incremental run an older version never overwrites a newer one already merged
    (a late retry of an old load), so the incremental result equals a full rebuild; the
    helper CTE `<as>_current` reads the versions merged into {{ this }} of the keys that
    came again (a semi-join; joining every merged key made stg_shop__line_items' day
    query at SF 1 take 1.25 s against 0.67 s), by the `partition_by` columns.
    `partition_by` defaults to `unique_key`; pass the natural columns when the key is a
    hash, to rank and look up on cheaper types: at SF 3 finding the merged versions of
    a day's order lines took 0.33 s by the md5 `order_line_id` and 0.11 s by `order_id`
    and `line_number`, and at SF 10 0.45 s by both together against 0.24 s by `order_id`
    first, then both. Pair it with those columns as the model's `unique_key`, so that
    delete+insert's delete matches on them too (0.35 s against 0.11 s).

    `version_rank < 2` and `copies < 2` mean `= 1` (both count from 1), written so for
    PostgreSQL's planner: it guesses 0.5% of rows for `= <constant>` on a computed column,
    so it expected one newest version where there were 57,000, and under a view's test
    (`not_null` on stg_payments__charges at SF 1) it chose a nested loop over them that
    took 140 s. For `<` it guesses a third, and picks a hash or merge join (0.15 s).

    Example: `{{ newest_version_per_key('renamed', 'order_id', as='newest_versions') }}`.
-#}
{% macro newest_version_per_key(versions_cte, unique_key, as, partition_by=none) %}
{%- set key_columns = partition_by or [unique_key] -%}
{%- set join_conditions = [] -%}
{%- for column in key_columns + ['updated_at', '_loaded_load_id'] -%}
{%- do join_conditions.append(versions_cte ~ '.' ~ column ~ ' = ' ~ as ~ '_keys.' ~ column) -%}
{%- endfor -%}
{%- set current_conditions = [] -%}
{%- for column in key_columns -%}
{%- set condition = versions_cte ~ '.' ~ column ~ ' = ' ~ as ~ '_current.' ~ column -%}
{%- do current_conditions.append(condition) -%}
{%- endfor -%}
{%- set newest_rows -%}
from {{ versions_cte }}
inner join {{ as }}_keys
    on {{ join_conditions | join('\n        and ') }}
{%- if is_incremental() %}
left join {{ as }}_current
    on {{ current_conditions | join('\n        and ') }}
{%- endif %}
where
{%- if is_incremental() %}
    (
        {{ as }}_current.{{ key_columns[0] }} is null
        or {{ versions_cte }}.updated_at > {{ as }}_current.updated_at
        or (
            {{ versions_cte }}.updated_at = {{ as }}_current.updated_at
            and {{ versions_cte }}._loaded_load_id >= {{ as }}_current._loaded_load_id
        )
    )
    and
{%- endif %}
{%- endset -%}
{{ as }}_ranked as (
    select
        {{ key_columns | join(',\n        ') }},
        updated_at,
        _loaded_load_id,
        count(*) as copies,
        row_number() over (
            partition by {{ key_columns | join(', ') }}
            order by updated_at desc, _loaded_load_id desc
        ) as version_rank
    from {{ versions_cte }}
    group by {{ key_columns | join(', ') }}, updated_at, _loaded_load_id
),

{{ as }}_keys as (
    select
        {{ key_columns | join(',\n        ') }},
        updated_at,
        _loaded_load_id,
        copies
    from {{ as }}_ranked
    where version_rank < 2
),
{%- if is_incremental() %}

{{ as }}_current as (
    select
        {{ key_columns | join(',\n        ') }},
        updated_at,
        _loaded_load_id
    from {{ this }} as merged
{%- if key_columns | length == 1 %}
    where {{ key_columns[0] }} in (select {{ key_columns[0] }} from {{ versions_cte }})
{%- else %}
    -- first the keys' leading column alone, a cheaper probe than all of them together
    where
        {{ key_columns[0] }} in (select {{ key_columns[0] }} from {{ versions_cte }})
        and exists (
            select 1
            from {{ versions_cte }} as came_again
            where
                {%- for column in key_columns %}
                {{ 'and ' if not loop.first }}came_again.{{ column }} = merged.{{ column }}
                {%- endfor %}
        )
{%- endif %}
),
{%- endif %}

{{ as }} as (
    select {{ versions_cte }}.*
    {{ newest_rows }} {{ as }}_keys.copies < 2
    union all
    select distinct {{ versions_cte }}.*
    {{ newest_rows }} {{ as }}_keys.copies > 1
)
{%- endmacro %}
