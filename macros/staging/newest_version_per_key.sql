{#-
    CTEs `ranked`, `latest` and `final`: the newest version of each key among the rows of
    `versions_cte` (every changed source row lands as one more raw row), by `updated_at`,
    ties broken by `_loaded_load_id` (fixed-width epoch strings, so they order as text).

    On an incremental run an older version never overwrites a newer one already merged
    (a late retry of an old load), so the incremental result equals a full rebuild.
    `columns` lists the model's columns in order; `partition_by` defaults to `unique_key`
    (pass the natural columns when the key is a hash, to window on cheaper types).
-#}
{% macro newest_version_per_key(versions_cte, unique_key, columns, partition_by=none) %}
ranked as (
    select
        *,
        row_number() over (
            partition by {{ (partition_by or [unique_key]) | join(', ') }}
            order by updated_at desc, _loaded_load_id desc
        ) as version_rank
    from {{ versions_cte }}
),

latest as (
    select * from ranked
    where version_rank = 1
),

{% if is_incremental() %}

current_versions as (
    select
        {{ unique_key }},
        updated_at,
        _loaded_load_id
    from {{ this }}
),

final as (
    select
        latest.{{ columns | join(',\n        latest.') }}
    from latest
    left join current_versions
        on latest.{{ unique_key }} = current_versions.{{ unique_key }}
    where
        current_versions.{{ unique_key }} is null
        or latest.updated_at > current_versions.updated_at
        or (
            latest.updated_at = current_versions.updated_at
            and latest._loaded_load_id >= current_versions._loaded_load_id
        )
)

{%- else %}
final as (
    select
        {{ columns | join(',\n        ') }}
    from latest
)
{%- endif %}
{%- endmacro %}
