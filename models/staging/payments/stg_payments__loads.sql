with

source as (
    select * from {{ source('payments', '_dlt_loads') }}
),

renamed as (
    select
        cast(load_id as {{ dbt.type_string() }}) as load_id,
        cast(status as integer) as load_status,
        cast(inserted_at as {{ dbt.type_timestamp() }}) as loaded_at
    from source
),

committed as (
    select * from renamed
    where load_status = 0
)

select * from committed
