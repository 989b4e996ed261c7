{#-
    CTEs `new_loads` and `committed`: the rows of `source_cte` that belong to dlt loads
    committed (`loads_cte`, one row per load with load_id and loaded_at) and, on an
    incremental run, not yet merged into {{ this }}.

    The watermark is the newest merged load's commit time, compared with `>=` so a load
    committed in the same instant is not lost, minus the loads already merged at that
    instant, so the newest (possibly huge, e.g. initial) load is not re-read. The model
    must carry `_loaded_load_id` and `_loaded_at` for this to work.
-#}
{% macro committed_rows_since_last_run(source_cte, loads_cte) %}
{%- if is_incremental() %}
watermark as (
    select max(_loaded_at) as loaded_at from {{ this }}
),

merged_at_watermark as (
    select distinct this_model._loaded_load_id as load_id
    from {{ this }} as this_model
    inner join watermark
        on this_model._loaded_at = watermark.loaded_at
),

new_loads as (
    select {{ loads_cte }}.*
    from {{ loads_cte }}
    cross join watermark
    left join merged_at_watermark
        on {{ loads_cte }}.load_id = merged_at_watermark.load_id
    where
        merged_at_watermark.load_id is null
        and {{ loads_cte }}.loaded_at
        >= coalesce(watermark.loaded_at, cast('1900-01-01' as {{ dbt.type_timestamp() }}))
),

{%- else %}
new_loads as (
    select * from {{ loads_cte }}
),

{%- endif %}

committed as (
    select
        {{ source_cte }}.*,
        new_loads.load_id,
        new_loads.loaded_at
    from {{ source_cte }}
    inner join new_loads
        on {{ source_cte }}._dlt_load_id = new_loads.load_id
)
{%- endmacro %}
