-- dim_customers is rebuilt per changed customer; its order history must still match
-- fct_orders exactly for every customer. With tests_scope: run (make run), only the
-- customers this run wrote, or whose orders it wrote (macros/incremental/run_scope_marker.sql).

{%- set customers_written = keys_written_this_run(
    'customer_id', [ref('dim_customers'), ref('fct_orders')]
) %}

with

{% if customers_written -%}
customers_of_this_run as (
    {{ customers_written }}
),

customers as (
    select dim_customers.*
    from {{ ref('dim_customers') }} as dim_customers
    inner join customers_of_this_run
        on dim_customers.customer_id = customers_of_this_run.customer_id
),

orders as (
    select fct_orders.*
    from {{ ref('fct_orders') }} as fct_orders
    inner join customers_of_this_run
        on fct_orders.customer_id = customers_of_this_run.customer_id
),

{% else -%}
customers as (
    select * from {{ ref('dim_customers') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

{% endif -%}
order_history as (
    select
        customer_id,
        count(*) as order_count,
        sum(net_revenue) as lifetime_value
    from orders
    group by customer_id
),

mismatches as (
    select
        customers.customer_id,
        customers.order_count,
        order_history.order_count as orders_order_count,
        customers.lifetime_value,
        order_history.lifetime_value as orders_lifetime_value
    from customers
    left join order_history
        on customers.customer_id = order_history.customer_id
    where
        customers.order_count != coalesce(order_history.order_count, 0)
        or customers.lifetime_value != coalesce(order_history.lifetime_value, 0)
)

select * from mismatches
