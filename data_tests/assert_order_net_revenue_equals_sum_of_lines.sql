-- An order's revenue must be exactly the sum of its lines' revenue, including after
-- incremental runs that rebuilt only some orders. With tests_scope: run (make run), only
-- the orders this run wrote, or whose lines it wrote (macros/incremental/run_scope_marker.sql).

{%- set orders_written = keys_written_this_run(
    'order_id', [ref('fct_orders'), ref('fct_order_lines')]
) %}

with

{% if orders_written -%}
orders_of_this_run as (
    {{ orders_written }}
),

orders as (
    select fct_orders.*
    from {{ ref('fct_orders') }} as fct_orders
    inner join orders_of_this_run
        on fct_orders.order_id = orders_of_this_run.order_id
),

order_lines as (
    select fct_order_lines.*
    from {{ ref('fct_order_lines') }} as fct_order_lines
    inner join orders_of_this_run
        on fct_order_lines.order_id = orders_of_this_run.order_id
),

{% else -%}
orders as (
    select * from {{ ref('fct_orders') }}
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

{% endif -%}
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
