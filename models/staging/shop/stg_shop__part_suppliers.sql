{{
    config(
        materialized='incremental',
        unique_key='part_supplier_id',
        incremental_strategy=keyed_incremental_strategy(),
    )
}}

with

source as (
    select * from {{ source('shop', 'partsupp') }}
),

loads as (
    select * from {{ ref('stg_shop__loads') }}
),

{% if is_incremental() %}

-- Loads committed since the last run: `>=` on the commit time, so a load committed in
-- the same instant as the newest merged one is not lost, minus the loads already merged
-- at that instant, so the (possibly huge, e.g. initial) newest load is not re-read.
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
    select loads.*
    from loads
    cross join watermark
    left join merged_at_watermark
        on loads.load_id = merged_at_watermark.load_id
    where
        merged_at_watermark.load_id is null
        and loads.loaded_at
        >= coalesce(watermark.loaded_at, cast('1900-01-01' as {{ dbt.type_timestamp() }}))
),

{% else %}

new_loads as (
    select * from loads
),

{% endif %}

committed as (
    select
        source.*,
        new_loads.load_id,
        new_loads.loaded_at
    from source
    inner join new_loads
        on source._dlt_load_id = new_loads.load_id
),

renamed as (
    select
        {{ surrogate_key(['ps_partkey', 'ps_suppkey']) }} as part_supplier_id,
        cast(ps_partkey as {{ dbt.type_bigint() }}) as part_id,
        cast(ps_suppkey as {{ dbt.type_bigint() }}) as supplier_id,
        cast(ps_availqty as {{ dbt.type_int() }}) as available_quantity,
        cast(ps_supplycost as decimal(15, 2)) as supply_cost,
        cast(ps_comment as {{ dbt.type_string() }}) as part_supplier_comment,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        load_id as _loaded_load_id,
        loaded_at as _loaded_at
    from committed
),

-- Every changed row version lands as one more raw row: keep the newest. Load ids are
-- fixed-width epoch strings, so they order as text.
ranked as (
    select
        *,
        row_number() over (
            partition by part_id, supplier_id
            order by updated_at desc, _loaded_load_id desc
        ) as version_rank
    from renamed
),

latest as (
    select * from ranked
    where version_rank = 1
),

{% if is_incremental() %}

-- Never let an older version overwrite a newer one already merged (a late retry of an
-- old load), so the incremental result equals a full rebuild.
current_versions as (
    select
        part_supplier_id,
        updated_at,
        _loaded_load_id
    from {{ this }}
),

final as (
    select
        latest.part_supplier_id,
        latest.part_id,
        latest.supplier_id,
        latest.available_quantity,
        latest.supply_cost,
        latest.part_supplier_comment,
        latest.updated_at,
        latest._loaded_load_id,
        latest._loaded_at
    from latest
    left join current_versions
        on latest.part_supplier_id = current_versions.part_supplier_id
    where
        current_versions.part_supplier_id is null
        or latest.updated_at > current_versions.updated_at
        or (
            latest.updated_at = current_versions.updated_at
            and latest._loaded_load_id >= current_versions._loaded_load_id
        )
)

{% else %}

final as (
    select
        part_supplier_id,
        part_id,
        supplier_id,
        available_quantity,
        supply_cost,
        part_supplier_comment,
        updated_at,
        _loaded_load_id,
        _loaded_at
    from latest
)

{% endif %}

select * from final
