with

orders as (
    select * from {{ ref('fct_orders') }}
),

charges as (
    select * from {{ ref('stg_payments__charges') }}
),

refunds as (
    select * from {{ ref('stg_payments__refunds') }}
),

go_live as (
    select min(created_date) as go_live_date from charges
),

-- The contract's types on every engine: count(case ...) is a bigint where DuckDB would sum
-- 1/0 to hugeint, and each engine widens a decimal sum differently (fct_orders).
charged_per_day as (
    select
        created_date as revenue_date,
        cast(sum(case when is_paid then amount else 0 end) as decimal(38, 2)) as charged_amount,
        count(case when is_paid then 1 end) as charge_count
    from charges
    group by created_date
),

refunded_per_day as (
    select
        created_date as revenue_date,
        cast(sum(amount) as decimal(38, 2)) as refunded_amount,
        count(*) as refund_count
    from refunds
    group by created_date
),

booked_per_day as (
    select
        orders.order_date as revenue_date,
        cast(sum(orders.total_price) as decimal(38, 2)) as booked_amount,
        cast(sum(orders.net_revenue) as decimal(38, 4)) as booked_net_revenue,
        count(*) as booked_order_count
    from orders
    cross join go_live
    where orders.order_date >= go_live.go_live_date
    group by orders.order_date
),

revenue_days as (
    select revenue_date from charged_per_day
    union
    select revenue_date from refunded_per_day
    union
    select revenue_date from booked_per_day
),

joined as (
    select
        revenue_days.revenue_date,
        coalesce(charged_per_day.charge_count, 0) as charge_count,
        coalesce(refunded_per_day.refund_count, 0) as refund_count,
        coalesce(booked_per_day.booked_order_count, 0) as booked_order_count,
        coalesce(charged_per_day.charged_amount, 0) as charged_amount,
        coalesce(refunded_per_day.refunded_amount, 0) as refunded_amount,
        coalesce(booked_per_day.booked_amount, 0) as booked_amount,
        coalesce(booked_per_day.booked_net_revenue, 0) as booked_net_revenue
    from revenue_days
    left join charged_per_day
        on revenue_days.revenue_date = charged_per_day.revenue_date
    left join refunded_per_day
        on revenue_days.revenue_date = refunded_per_day.revenue_date
    left join booked_per_day
        on revenue_days.revenue_date = booked_per_day.revenue_date
),

final as (
    select
        *,
        charged_amount - refunded_amount as net_cash_amount,
        charged_amount - refunded_amount - booked_amount as cash_minus_booked_amount
    from joined
)

select * from final
