{{
    config(
        materialized='incremental',
        unique_key='part_id',
        incremental_strategy=keyed_incremental_strategy(),
    )
}}

with

source as (
    select * from {{ source('shop', 'part') }}
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
        cast(p_partkey as {{ dbt.type_bigint() }}) as part_id,
        cast(p_name as {{ dbt.type_string() }}) as part_name,
        cast(p_mfgr as {{ dbt.type_string() }}) as manufacturer,
        cast(p_brand as {{ dbt.type_string() }}) as brand,
        cast(p_type as {{ dbt.type_string() }}) as part_type,
        cast(p_size as {{ dbt.type_int() }}) as size,
        cast(p_container as {{ dbt.type_string() }}) as container,
        cast(p_retailprice as decimal(15, 2)) as retail_price,
        cast(p_comment as {{ dbt.type_string() }}) as part_comment,
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
            partition by part_id
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
        part_id,
        updated_at,
        _loaded_load_id
    from {{ this }}
),

final as (
    select
        latest.part_id,
        latest.part_name,
        latest.manufacturer,
        latest.brand,
        latest.part_type,
        latest.size,
        latest.container,
        latest.retail_price,
        latest.part_comment,
        latest.updated_at,
        latest._loaded_load_id,
        latest._loaded_at
    from latest
    left join current_versions
        on latest.part_id = current_versions.part_id
    where
        current_versions.part_id is null
        or latest.updated_at > current_versions.updated_at
        or (
            latest.updated_at = current_versions.updated_at
            and latest._loaded_load_id >= current_versions._loaded_load_id
        )
)

{% else %}

final as (
    select
        part_id,
        part_name,
        manufacturer,
        brand,
        part_type,
        size,
        container,
        retail_price,
        part_comment,
        updated_at,
        _loaded_load_id,
        _loaded_at
    from latest
)

{% endif %}

select * from final
