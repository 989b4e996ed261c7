{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy=keyed_incremental_strategy(),
        partition_by=spark_partition_by('order_month'),
    )
}}

with

orders as {{ not_materialized() }} (
    select * from {{ ref('stg_shop__orders') }}
),

order_lines as {{ not_materialized() }} (
    select * from {{ ref('fct_order_lines') }}
),

{% if is_incremental() %}

-- An order is rebuilt when it changed itself (fulfilment status) or when any of its
-- lines changed, so the line totals never go stale. `>=` re-keyed rows are idempotent.
watermark as (
    select max(updated_at) as updated_at from {{ this }}
),

changed_order_ids as (
    select orders.order_id
    from orders
    cross join watermark
    where orders.updated_at >= watermark.updated_at

    union

    select order_lines.order_id
    from order_lines
    cross join watermark
    where order_lines.updated_at >= watermark.updated_at
),

orders_to_build as (
    select orders.*
    from orders
    inner join changed_order_ids
        on orders.order_id = changed_order_ids.order_id
),

lines_to_build as (
    select order_lines.*
    from order_lines
    inner join changed_order_ids
        on order_lines.order_id = changed_order_ids.order_id
),

{% else %}

orders_to_build as (
    select * from orders
),

lines_to_build as (
    select * from order_lines
),

{% endif %}

-- Sums are cast to decimal(38, s), the type the contract declares: DuckDB widens a sum to
-- precision 38 but Spark to p + 10, and PostgreSQL to unconstrained numeric.
line_totals as (
    select
        order_id,
        cast(sum(extended_price) as decimal(38, 2)) as extended_price,
        cast(sum(net_revenue) as decimal(38, 4)) as net_revenue,
        cast(sum(gross_revenue) as decimal(38, 6)) as gross_revenue,
        count(*) as line_count,
        max(updated_at) as lines_updated_at
    from lines_to_build
    group by order_id
),

-- Inner join: an order is only a fact once its lines have landed with it.
final as (
    select
        orders_to_build.order_id,
        orders_to_build.customer_id,
        orders_to_build.order_date,
        orders_to_build.order_month,
        orders_to_build.order_status,
        orders_to_build.order_priority,
        orders_to_build.fulfilment_status,
        orders_to_build.total_price,
        line_totals.line_count,
        line_totals.extended_price,
        line_totals.net_revenue,
        line_totals.gross_revenue,
        greatest(orders_to_build.updated_at, line_totals.lines_updated_at) as updated_at
    from orders_to_build
    inner join line_totals
        on orders_to_build.order_id = line_totals.order_id
),

{{ complete_partitions('final', 'order_id', 'order_month', as='whole_months') }}

select * from whole_months
