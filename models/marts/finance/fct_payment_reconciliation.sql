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

-- Orders booked before the shop's first card payment were settled elsewhere.
go_live as (
    select min(created_date) as go_live_date from charges
),

refunds_per_charge as (
    select
        charge_id,
        count(*) as refund_count,
        sum(amount) as refunded_amount,
        max(created_at) as last_refunded_at
    from refunds
    group by charge_id
),

charges_per_order as (
    select
        charges.order_id,
        count(*) as charge_attempt_count,
        sum(case when charges.is_paid then 0 else 1 end) as failed_charge_count,
        sum(case when charges.is_paid then charges.amount else 0 end) as charged_amount,
        sum(coalesce(refunds_per_charge.refunded_amount, 0)) as refunded_amount,
        sum(coalesce(refunds_per_charge.refund_count, 0)) as refund_count,
        min(charges.created_at) as first_charged_at,
        max(refunds_per_charge.last_refunded_at) as last_refunded_at
    from charges
    left join refunds_per_charge
        on charges.charge_id = refunds_per_charge.charge_id
    group by charges.order_id
),

payable_orders as (
    select
        orders.order_id,
        orders.customer_id,
        orders.order_date,
        orders.total_price
    from orders
    cross join go_live
    where orders.order_date >= go_live.go_live_date
),

reconciled as (
    select
        payable_orders.order_id,
        payable_orders.customer_id,
        payable_orders.order_date,
        payable_orders.total_price,
        charges_per_order.first_charged_at,
        charges_per_order.last_refunded_at,
        coalesce(charges_per_order.charge_attempt_count, 0) as charge_attempt_count,
        -- Cast to the contract's types, on every row (an order without charges too):
        -- DuckDB sums integers to hugeint, PostgreSQL a bigint to numeric, and each
        -- engine widens a decimal sum differently (fct_orders).
        cast(
            coalesce(charges_per_order.failed_charge_count, 0) as {{ dbt.type_bigint() }}
        ) as failed_charge_count,
        cast(
            coalesce(charges_per_order.refund_count, 0) as {{ dbt.type_bigint() }}
        ) as refund_count,
        cast(coalesce(charges_per_order.charged_amount, 0) as decimal(38, 2)) as charged_amount,
        cast(coalesce(charges_per_order.refunded_amount, 0) as decimal(38, 2)) as refunded_amount
    from payable_orders
    left join charges_per_order
        on payable_orders.order_id = charges_per_order.order_id
),

classified as (
    select
        *,
        charged_amount - refunded_amount as net_paid_amount,
        case
            when charged_amount > 0 then charged_amount - total_price
        end as payment_difference,
        failed_charge_count > 0 as has_failed_charge,
        charged_amount > 0 and charged_amount > total_price as is_overpaid,
        charged_amount > 0 and charged_amount < total_price as is_underpaid,
        case
            when charge_attempt_count = 0 then 'unpaid'
            when charged_amount = 0 then 'failed'
            when refunded_amount >= charged_amount then 'refunded'
            when refunded_amount > 0 then 'partially_refunded'
            when charged_amount > total_price then 'overpaid'
            when charged_amount < total_price then 'underpaid'
            else 'paid'
        end as payment_status
    from reconciled
)

select * from classified
