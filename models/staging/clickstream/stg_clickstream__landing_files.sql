with

source as (
    select * from {{ source('clickstream', 'audit') }}
),

renamed as (
    select
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(landing_date as date) as landed_date,
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(delivered as {{ dbt.type_bigint() }}) as delivered_count,
        cast(processed as {{ dbt.type_bigint() }}) as processed_count,
        cast(quarantined as {{ dbt.type_bigint() }}) as quarantined_count,
        cast(duplicates as {{ dbt.type_bigint() }}) as duplicate_count,
        cast(engine as {{ dbt.type_string() }}) as engine,
        cast(processed_at as {{ dbt.type_timestamp() }}) as processed_at
    from source
)

select * from renamed
