{{
    config(
        materialized='incremental',
        unique_key='session_date',
        incremental_strategy=dated_incremental_strategy(),
        partition_by=spark_partition_by('session_date'),
    )
}}

with

sessions as {{ not_materialized() }} (
    select * from {{ ref('fct_sessions') }}
),

orders as {{ not_materialized() }} (
    select * from {{ ref('fct_orders') }}
),

{{ rows_in_lookback_window(
    'sessions', 'session_date', ref('stg_clickstream__events'), as='sessions_in_window'
) }},

{% if is_incremental() %}

-- An order can change after its day was built (a corrected price). Most changes are
-- fulfilment statuses, which the funnel does not show, so the days before the window
-- with a visit whose order changed since the window's first day are candidates, and
-- only those whose order value then differs from the one built are rebuilt. (`>=` as in
-- fct_orders: a boundary row is checked again, never missed.)
candidate_days as (
    select distinct sessions.session_date
    from sessions
    inner join orders
        on sessions.order_id = orders.order_id
    cross join sessions_in_window_start
    where
        orders.updated_at >= sessions_in_window_start.rebuild_from
        and sessions.session_date < sessions_in_window_start.rebuild_from
),

candidate_order_values as (
    select
        sessions.session_date,
        cast(sum(orders.total_price) as decimal(38, 2)) as order_total_price
    from sessions
    inner join candidate_days
        on sessions.session_date = candidate_days.session_date
    inner join orders
        on sessions.order_id = orders.order_id
    group by sessions.session_date
),

changed_order_days as (
    select candidate_order_values.session_date
    from candidate_order_values
    inner join {{ this }} as built
        on candidate_order_values.session_date = built.session_date
    where candidate_order_values.order_total_price != built.order_total_price
),

sessions_to_build as (
    select * from sessions_in_window

    union all

    select sessions.*
    from sessions
    inner join changed_order_days
        on sessions.session_date = changed_order_days.session_date
),

{% else %}

sessions_to_build as (
    select * from sessions_in_window
),

{% endif %}

-- The web order ties the funnel to the shop: its revenue is the order's, from fct_orders.
sessions_with_orders as (
    select
        sessions_to_build.*,
        orders.total_price as order_total_price
    from sessions_to_build
    left join orders
        on sessions_to_build.order_id = orders.order_id
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
