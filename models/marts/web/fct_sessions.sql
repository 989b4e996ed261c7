{{
    config(
        materialized='incremental',
        unique_key='session_date',
        incremental_strategy=dated_incremental_strategy(),
        partition_by=spark_partition_by('session_date'),
    )
}}

with

events as (
    select * from {{ ref('int_clickstream_events_sessionized') }}
),

-- Same lookback as the sessionized events (3 days of late arrivals, or back to the
-- oldest event that landed since), plus the day a visit crossing midnight started on.
{{ rows_in_lookback_window(
    'events', 'session_date', ref('stg_clickstream__events'), as='events_in_window'
) }},

sessions as (
    select
        session_id,
        visitor_id,
        max(customer_id) as customer_id,
        min(device) as device,
        min(session_date) as session_date,
        min(session_started_at) as session_started_at,
        max(event_at) as session_ended_at,
        count(*) as event_count,
        -- count(case ...), not sum(case ... 1 else 0): bigint on every engine, where DuckDB
        -- would sum to hugeint
        count(case when event_type = 'page_view' then 1 end) as page_view_count,
        count(case when event_type = 'product_view' then 1 end) as product_view_count,
        count(case when event_type = 'add_to_cart' then 1 end) as add_to_cart_count,
        count(case when event_type = 'checkout_started' then 1 end) as checkout_count,
        count(case when event_type = 'order_placed' then 1 end) as order_count,
        max(order_id) as order_id
    from events_in_window
    group by session_id, visitor_id
),

-- The furthest funnel step a visit reached; a visit counts at every step up to it, so a
-- broken (quarantined) product view cannot make a cart look like it came from nowhere.
staged as (
    select
        *,
        case
            when order_count > 0 then 4
            when checkout_count > 0 then 3
            when add_to_cart_count > 0 then 2
            when product_view_count > 0 then 1
            else 0
        end as furthest_step
    from sessions
),

final as (
    select
        session_id,
        visitor_id,
        customer_id,
        device,
        session_date,
        session_started_at,
        session_ended_at,
        -- PostgreSQL's datediff is built from date_part() and comes back as a double
        cast(
            {{ dbt.datediff('session_started_at', 'session_ended_at', 'second') }}
            as {{ dbt.type_bigint() }}
        ) as duration_seconds,
        event_count,
        page_view_count,
        product_view_count,
        add_to_cart_count,
        checkout_count,
        order_count,
        order_id,
        customer_id is null as is_anonymous,
        furthest_step >= 1 as has_product_view,
        furthest_step >= 2 as has_add_to_cart,
        furthest_step >= 3 as has_checkout,
        furthest_step >= 4 as has_order
    from staged
)

select * from final
{{ clustered_on('session_date') }}
