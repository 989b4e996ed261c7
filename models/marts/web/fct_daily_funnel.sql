{{
    config(
        materialized='incremental',
        unique_key='session_date',
        incremental_strategy=dated_incremental_strategy(),
        partition_by=partition_by_day('session_date'),
    )
}}

with

sessions as (
    select * from {{ ref('fct_sessions') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

{{ rows_in_lookback_window('sessions', 'session_date', as='sessions_in_window') }},

-- The web order ties the funnel to the shop: its revenue is the order's, from fct_orders.
sessions_with_orders as (
    select
        sessions_in_window.*,
        orders.total_price as order_total_price
    from sessions_in_window
    left join orders
        on sessions_in_window.order_id = orders.order_id
),

-- count(case ...), not sum(case ... 1 else 0): a bigint on every engine, where DuckDB would
-- sum to hugeint.
daily as (
    select
        session_date,
        -- The contract's type on every engine and row: each engine widens a decimal sum
        -- differently (fct_orders), and PostgreSQL's coalesce drops the precision. (The
        -- table's columns follow the YAML's order, whatever the order here.)
        cast(
            coalesce(sum(order_total_price), 0) as decimal(38, 2)
        ) as order_total_price,
        count(*) as session_count,
        count(case when has_product_view then 1 end) as product_view_session_count,
        count(case when has_add_to_cart then 1 end) as add_to_cart_session_count,
        count(case when has_checkout then 1 end) as checkout_session_count,
        count(case when has_order then 1 end) as order_session_count,
        count(distinct order_id) as order_count
    from sessions_with_orders
    group by session_date
),

final as (
    select
        *,
        cast(order_session_count as {{ type_double() }})
        / nullif(session_count, 0) as conversion_rate
    from daily
)

select * from final
