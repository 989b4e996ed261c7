with

landing_files as (
    select * from {{ ref('stg_clickstream__landing_files') }}
),

events as (
    select * from {{ ref('stg_clickstream__events') }}
),

-- Counts stay bigint on every engine: DuckDB sums a bigint to hugeint, PostgreSQL to numeric.
delivered as (
    select
        landed_date,
        count(*) as landing_file_count,
        cast(sum(delivered_count) as {{ dbt.type_bigint() }}) as delivered_count,
        cast(sum(processed_count) as {{ dbt.type_bigint() }}) as processed_count,
        cast(sum(quarantined_count) as {{ dbt.type_bigint() }}) as quarantined_count,
        cast(sum(duplicate_count) as {{ dbt.type_bigint() }}) as duplicate_count
    from landing_files
    group by landed_date
),

stored as (
    select
        landed_date,
        count(*) as stored_event_count
    from events
    group by landed_date
),

final as (
    select
        delivered.landed_date,
        delivered.landing_file_count,
        delivered.delivered_count,
        delivered.processed_count,
        delivered.quarantined_count,
        delivered.duplicate_count,
        coalesce(stored.stored_event_count, 0) as stored_event_count
    from delivered
    left join stored
        on delivered.landed_date = stored.landed_date
)

select * from final
