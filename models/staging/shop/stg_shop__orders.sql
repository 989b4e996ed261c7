{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy=keyed_incremental_strategy(),
    )
}}

with

source as (
    select * from {{ source('shop', 'orders') }}
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
        cast(o_orderkey as {{ dbt.type_bigint() }}) as order_id,
        cast(o_custkey as {{ dbt.type_bigint() }}) as customer_id,
        cast(o_orderstatus as {{ dbt.type_string() }}) as order_status,
        cast(o_totalprice as decimal(15, 2)) as total_price,
        cast(o_orderdate as date) as order_date,
        cast(o_orderpriority as {{ dbt.type_string() }}) as order_priority,
        cast(o_clerk as {{ dbt.type_string() }}) as clerk,
        cast(o_shippriority as {{ dbt.type_int() }}) as ship_priority,
        cast(o_fulfilment_status as {{ dbt.type_string() }}) as fulfilment_status,
        cast(o_comment as {{ dbt.type_string() }}) as order_comment,
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
            partition by order_id
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
        order_id,
        updated_at,
        _loaded_load_id
    from {{ this }}
),

final as (
    select
        latest.order_id,
        latest.customer_id,
        latest.order_status,
        latest.total_price,
        latest.order_date,
        latest.order_priority,
        latest.clerk,
        latest.ship_priority,
        latest.fulfilment_status,
        latest.order_comment,
        latest.updated_at,
        latest._loaded_load_id,
        latest._loaded_at
    from latest
    left join current_versions
        on latest.order_id = current_versions.order_id
    where
        current_versions.order_id is null
        or latest.updated_at > current_versions.updated_at
        or (
            latest.updated_at = current_versions.updated_at
            and latest._loaded_load_id >= current_versions._loaded_load_id
        )
)

{% else %}

final as (
    select
        order_id,
        customer_id,
        order_status,
        total_price,
        order_date,
        order_priority,
        clerk,
        ship_priority,
        fulfilment_status,
        order_comment,
        updated_at,
        _loaded_load_id,
        _loaded_at
    from latest
)

{% endif %}

select * from final
