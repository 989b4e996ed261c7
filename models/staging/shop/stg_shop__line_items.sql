{{
    config(
        materialized='incremental',
        unique_key='order_line_id',
        incremental_strategy=keyed_incremental_strategy(),
    )
}}

with

source as (
    select * from {{ source('shop', 'lineitem') }}
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
        {{ surrogate_key(['l_orderkey', 'l_linenumber']) }} as order_line_id,
        cast(l_orderkey as {{ dbt.type_bigint() }}) as order_id,
        cast(l_linenumber as {{ dbt.type_int() }}) as line_number,
        cast(l_partkey as {{ dbt.type_bigint() }}) as part_id,
        cast(l_suppkey as {{ dbt.type_bigint() }}) as supplier_id,
        cast(l_quantity as {{ dbt.type_int() }}) as quantity,
        cast(l_extendedprice as decimal(15, 2)) as extended_price,
        cast(l_discount as decimal(15, 2)) as discount,
        cast(l_tax as decimal(15, 2)) as tax,
        cast(l_returnflag as {{ dbt.type_string() }}) as return_flag,
        cast(l_linestatus as {{ dbt.type_string() }}) as line_status,
        cast(l_shipdate as date) as ship_date,
        cast(l_commitdate as date) as commit_date,
        cast(l_receiptdate as date) as receipt_date,
        cast(l_shipinstruct as {{ dbt.type_string() }}) as ship_instructions,
        cast(l_shipmode as {{ dbt.type_string() }}) as ship_mode,
        cast(l_comment as {{ dbt.type_string() }}) as line_comment,
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
            partition by order_id, line_number
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
        order_line_id,
        updated_at,
        _loaded_load_id
    from {{ this }}
),

final as (
    select
        latest.order_line_id,
        latest.order_id,
        latest.line_number,
        latest.part_id,
        latest.supplier_id,
        latest.quantity,
        latest.extended_price,
        latest.discount,
        latest.tax,
        latest.return_flag,
        latest.line_status,
        latest.ship_date,
        latest.commit_date,
        latest.receipt_date,
        latest.ship_instructions,
        latest.ship_mode,
        latest.line_comment,
        latest.updated_at,
        latest._loaded_load_id,
        latest._loaded_at
    from latest
    left join current_versions
        on latest.order_line_id = current_versions.order_line_id
    where
        current_versions.order_line_id is null
        or latest.updated_at > current_versions.updated_at
        or (
            latest.updated_at = current_versions.updated_at
            and latest._loaded_load_id >= current_versions._loaded_load_id
        )
)

{% else %}

final as (
    select
        order_line_id,
        order_id,
        line_number,
        part_id,
        supplier_id,
        quantity,
        extended_price,
        discount,
        tax,
        return_flag,
        line_status,
        ship_date,
        commit_date,
        receipt_date,
        ship_instructions,
        ship_mode,
        line_comment,
        updated_at,
        _loaded_load_id,
        _loaded_at
    from latest
)

{% endif %}

select * from final
