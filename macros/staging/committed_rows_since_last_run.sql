{#-
    CTEs `<as>_new_loads` and `<as>`, plus `<as>_watermark` and `<as>_merged_at_watermark`
    on an incremental run: `<as>` holds the rows of `source_cte` (with their load's
    `load_id` and `loaded_at`) that belong to dlt loads committed (`loads_cte`, one row
    per load with load_id and loaded_at) and, on an incremental run, not yet merged into
    {{ this }}. `<as>_new_loads` is the loads read.

    The watermark is the newest merged load's commit time, compared with `>=` so a load
    committed in the same instant is not lost, minus the loads already merged at that
    instant, so the newest (possibly huge, e.g. initial) load is not re-read. The model
    must carry `_loaded_load_id` and `_loaded_at` for this to work.

    Example: `{{ committed_rows_since_last_run('source', 'loads', as='committed') }}`,
    then `select ... from committed`.
-#}
{% macro committed_rows_since_last_run(source_cte, loads_cte, as) %}
{%- if is_incremental() %}
{{ as }}_watermark as (
    select max(_loaded_at) as loaded_at from {{ this }}
),

{{ as }}_merged_at_watermark as (
    select distinct this_model._loaded_load_id as load_id
    from {{ this }} as this_model
    inner join {{ as }}_watermark
        on this_model._loaded_at = {{ as }}_watermark.loaded_at
),

{{ as }}_new_loads as (
    select {{ loads_cte }}.*
    from {{ loads_cte }}
    cross join {{ as }}_watermark
    left join {{ as }}_merged_at_watermark
        on {{ loads_cte }}.load_id = {{ as }}_merged_at_watermark.load_id
    where
        {{ as }}_merged_at_watermark.load_id is null
        and {{ loads_cte }}.loaded_at
        >= coalesce(
            {{ as }}_watermark.loaded_at, cast('1900-01-01' as {{ dbt.type_timestamp() }})
        )
),

{%- else %}
{{ as }}_new_loads as (
    select * from {{ loads_cte }}
),

{%- endif %}

{{ as }} as (
    select
        {{ source_cte }}.*,
        {{ as }}_new_loads.load_id,
        {{ as }}_new_loads.loaded_at
    from {{ source_cte }}
    inner join {{ as }}_new_loads
        on {{ source_cte }}._dlt_load_id = {{ as }}_new_loads.load_id
)
{%- endmacro %}
