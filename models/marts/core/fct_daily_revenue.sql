{{
    config(
        materialized='incremental',
        unique_key=['order_date', 'nation_id'],
        incremental_strategy=keyed_incremental_strategy(),
        partition_by=spark_partition_by('order_month'),
    )
}}

with

order_lines as {{ not_materialized() }} (
    select * from {{ ref('fct_order_lines') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

nations as (
    select * from {{ ref('int_nations_joined') }}
),

{% if is_incremental() %}

-- A day's totals are additive over all its lines, so any changed line means the whole
-- day is recomputed from the line fact rather than patched.
watermark as (
    select max(updated_at) as updated_at from {{ this }}
),

changed_days as (
    select distinct order_lines.order_date
    from order_lines
    cross join watermark
    where order_lines.updated_at >= watermark.updated_at
),

lines_to_build as (
    select order_lines.*
    from order_lines
    inner join changed_days
        on order_lines.order_date = changed_days.order_date
),

{% else %}

lines_to_build as (
    select * from order_lines
),

{% endif %}

-- A customer's nation is a TPC-H column and never changes, so the join is stable.
lines_with_nations as (
    select
        lines_to_build.*,
        customers.nation_id
    from lines_to_build
    inner join customers
        on lines_to_build.customer_id = customers.customer_id
),

-- Sums cast to the contract's decimal(38, s) on every engine (fct_orders says why).
daily as (
    select
        order_date,
        order_month,
        nation_id,
        cast(sum(extended_price) as decimal(38, 2)) as extended_price,
        cast(sum(net_revenue) as decimal(38, 4)) as net_revenue,
        cast(sum(gross_revenue) as decimal(38, 6)) as gross_revenue,
        count(distinct order_id) as order_count,
        count(*) as order_line_count,
        max(updated_at) as updated_at
    from lines_with_nations
    group by order_date, order_month, nation_id
),

daily_with_nations as (
    select
        daily.order_date,
        daily.order_month,
        daily.nation_id,
        nations.nation_name,
        nations.iso_alpha3 as nation_iso_code,
        nations.currency_code,
        nations.region_id,
        nations.region_name,
        daily.order_count,
        daily.order_line_count,
        daily.extended_price,
        daily.net_revenue,
        daily.gross_revenue,
        daily.updated_at
    from daily
    inner join nations
        on daily.nation_id = nations.nation_id
),

{{ complete_partitions(
    'daily_with_nations', ['order_date', 'nation_id'], 'order_month', as='final'
) }}

select * from final
