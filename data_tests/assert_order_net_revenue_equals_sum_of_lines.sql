-- An order's revenue must be exactly the sum of its lines' revenue, including after
-- incremental runs that rebuilt only some orders.

with

orders as (
    select * from {{ ref('fct_orders') }}
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

line_totals as (
    select
        order_id,
        count(*) as line_count,
        sum(net_revenue) as net_revenue,
        sum(gross_revenue) as gross_revenue
    from order_lines
    group by order_id
),

mismatches as (
    select
        orders.order_id,
        orders.net_revenue,
        line_totals.net_revenue as lines_net_revenue,
        orders.line_count,
        line_totals.line_count as lines_line_count
    from orders
    left join line_totals
        on orders.order_id = line_totals.order_id
    where
        line_totals.order_id is null
        or orders.net_revenue != line_totals.net_revenue
        or orders.gross_revenue != line_totals.gross_revenue
        or orders.line_count != line_totals.line_count
)

select * from mismatches
