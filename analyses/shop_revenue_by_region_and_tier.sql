-- Net revenue by region and current loyalty tier per year: a starting point for the
-- question "do loyal customers buy more?". Compile with `dbt compile` and run it anywhere.

with

orders as (
    select * from {{ ref('fct_orders') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

orders_with_customers as (
    select
        orders.order_id,
        orders.net_revenue,
        customers.region_name,
        customers.loyalty_tier,
        {{ dbt.date_trunc('year', 'orders.order_date') }} as order_year
    from orders
    inner join customers
        on orders.customer_id = customers.customer_id
),

summarised as (
    select
        order_year,
        region_name,
        loyalty_tier,
        count(*) as order_count,
        sum(net_revenue) as net_revenue
    from orders_with_customers
    group by order_year, region_name, loyalty_tier
)

select * from summarised
order by order_year, region_name, loyalty_tier
