{{
    config(
        materialized='incremental',
        unique_key='supplier_id',
        incremental_strategy=keyed_incremental_strategy(),
    )
}}

with

source as (
    select * from {{ source('shop', 'supplier') }}
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
        cast(s_suppkey as {{ dbt.type_bigint() }}) as supplier_id,
        cast(s_name as {{ dbt.type_string() }}) as supplier_name,
        cast(s_address as {{ dbt.type_string() }}) as address,
        cast(s_nationkey as {{ dbt.type_bigint() }}) as nation_id,
        cast(s_phone as {{ dbt.type_string() }}) as phone,
        cast(s_acctbal as decimal(15, 2)) as account_balance,
        cast(s_comment as {{ dbt.type_string() }}) as supplier_comment,
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
            partition by supplier_id
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
        supplier_id,
        updated_at,
        _loaded_load_id
    from {{ this }}
),

final as (
    select
        latest.supplier_id,
        latest.supplier_name,
        latest.address,
        latest.nation_id,
        latest.phone,
        latest.account_balance,
        latest.supplier_comment,
        latest.updated_at,
        latest._loaded_load_id,
        latest._loaded_at
    from latest
    left join current_versions
        on latest.supplier_id = current_versions.supplier_id
    where
        current_versions.supplier_id is null
        or latest.updated_at > current_versions.updated_at
        or (
            latest.updated_at = current_versions.updated_at
            and latest._loaded_load_id >= current_versions._loaded_load_id
        )
)

{% else %}

final as (
    select
        supplier_id,
        supplier_name,
        address,
        nation_id,
        phone,
        account_balance,
        supplier_comment,
        updated_at,
        _loaded_load_id,
        _loaded_at
    from latest
)

{% endif %}

select * from final
