with

source as (
    select * from {{ source('clickstream', 'events') }}
),

renamed as (
    select
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        cast(event_at as {{ dbt.type_timestamp() }}) as event_at,
        cast(event_date as date) as event_date,
        cast(visitor_id as {{ dbt.type_string() }}) as visitor_id,
        cast(customer_id as {{ dbt.type_bigint() }}) as customer_id,
        cast(part_id as {{ dbt.type_bigint() }}) as part_id,
        cast(order_id as {{ dbt.type_bigint() }}) as order_id,
        cast(page_url as {{ dbt.type_string() }}) as page_url,
        cast(device as {{ dbt.type_string() }}) as device,
        cast(landing_date as date) as landed_date,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(batch_id as {{ dbt.type_string() }}) as batch_id
    from source
)

select * from renamed
