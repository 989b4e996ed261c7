with

source as (
    select * from {{ source('shop', 'nation') }}
),

loads as (
    select * from {{ ref('stg_shop__loads') }}
),

committed as (
    select
        source.*,
        loads.load_id,
        loads.loaded_at
    from source
    inner join loads
        on source._dlt_load_id = loads.load_id
),

renamed as (
    select
        cast(n_nationkey as {{ dbt.type_bigint() }}) as nation_id,
        cast(n_name as {{ dbt.type_string() }}) as nation_name,
        cast(n_regionkey as {{ dbt.type_bigint() }}) as region_id,
        cast(n_comment as {{ dbt.type_string() }}) as nation_comment,
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
            partition by nation_id
            order by updated_at desc, _loaded_load_id desc
        ) as version_rank
    from renamed
),

latest as (
    select * from ranked
    where version_rank = 1
),

final as (
    select
        nation_id,
        nation_name,
        region_id,
        nation_comment,
        updated_at,
        _loaded_load_id,
        _loaded_at
    from latest
)

select * from final
