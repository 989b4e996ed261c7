-- Each day's revenue summed over nations must equal the sum of that day's order lines,
-- so no day is missed or double counted by the incremental day-level rebuild.

with

daily_revenue as (
    select * from {{ ref('fct_daily_revenue') }}
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

days_from_mart as (
    select
        order_date,
        sum(order_line_count) as order_line_count,
        sum(net_revenue) as net_revenue
    from daily_revenue
    group by order_date
),

days_from_lines as (
    select
        order_date,
        count(*) as order_line_count,
        sum(net_revenue) as net_revenue
    from order_lines
    group by order_date
),

mismatches as (
    select
        days_from_mart.net_revenue as mart_net_revenue,
        days_from_lines.net_revenue as lines_net_revenue,
        coalesce(days_from_mart.order_date, days_from_lines.order_date) as order_date
    from days_from_mart
    full outer join days_from_lines
        on days_from_mart.order_date = days_from_lines.order_date
    where
        days_from_mart.order_date is null
        or days_from_lines.order_date is null
        or days_from_mart.net_revenue != days_from_lines.net_revenue
        or days_from_mart.order_line_count != days_from_lines.order_line_count
)

select * from mismatches
