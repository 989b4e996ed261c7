{{
    config(
        materialized='incremental',
        unique_key=['order_id', 'line_number'],
        incremental_strategy=keyed_incremental_strategy(),
        partition_by=spark_partition_by('order_month'),
    )
}}

with

line_items as (
    select * from {{ ref('stg_shop__line_items') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

{% if is_incremental() %}

-- Lines changed since the newest version already here. `>=` rebuilds the boundary
-- rows (idempotent) instead of losing rows that share the newest timestamp.
watermark as (
    select max(updated_at) as updated_at from {{ this }}
),

changed_lines as (
    select line_items.*
    from line_items
    cross join watermark
    where line_items.updated_at >= watermark.updated_at
),

{% else %}

changed_lines as (
    select * from line_items
),

{% endif %}

-- Customer and order date come from the order; TPC-H columns never change after
-- release, so an order's later updates (fulfilment status) do not touch its lines.
lines_with_orders as (
    select
        changed_lines.*,
        orders.customer_id,
        orders.order_date,
        orders.order_month
    from changed_lines
    inner join orders
        on changed_lines.order_id = orders.order_id
),

priced as (
    select
        order_line_id,
        order_id,
        line_number,
        part_id,
        supplier_id,
        customer_id,
        order_date,
        order_month,
        quantity,
        extended_price,
        discount,
        tax,
        -- Exact decimal arithmetic: money(15,2) × rate(15,2) keeps four decimals.
        cast(extended_price * (1 - discount) as decimal(18, 4)) as net_revenue,
        cast(extended_price * (1 - discount) * (1 + tax) as decimal(18, 6)) as gross_revenue,
        return_flag,
        line_status,
        ship_date,
        commit_date,
        receipt_date,
        ship_mode,
        updated_at
    from lines_with_orders
),

{{ complete_partitions('priced', 'order_line_id', 'order_month', as='final') }}

select * from final
