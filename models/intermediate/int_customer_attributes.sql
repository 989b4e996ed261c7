-- Only the attributes the snapshot should version: tracking comments or addresses would
-- add rows without analytic value.

with

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

attributes as (
    select
        customer_id,
        loyalty_tier,
        account_balance,
        market_segment,
        updated_at
    from customers
)

select * from attributes
