with

reports as (
    select * from {{ ref('stg_partners__stock_reports') }}
),

part_suppliers as (
    select * from {{ ref('stg_shop__part_suppliers') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by supplier_id, part_id
            order by report_date desc
        ) as report_rank
    from reports
),

latest as (
    select * from ranked
    where report_rank = 1
),

final as (
    select
        {{ surrogate_key(['latest.supplier_id', 'latest.part_id']) }} as supplier_part_id,
        latest.supplier_id,
        latest.part_id,
        latest.partner_name,
        latest.report_date as reported_date,
        latest.available_quantity,
        latest.unit_price,
        latest.lead_time_days,
        part_suppliers.supply_cost,
        latest.unit_price - part_suppliers.supply_cost as price_over_supply_cost
    from latest
    left join part_suppliers
        on
            latest.supplier_id = part_suppliers.supplier_id
            and latest.part_id = part_suppliers.part_id
)

select * from final
