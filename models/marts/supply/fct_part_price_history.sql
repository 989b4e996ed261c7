with

reports as (
    select * from {{ ref('stg_partners__stock_reports') }}
),

with_previous as (
    select
        stock_report_id as price_report_id,
        supplier_id,
        part_id,
        partner_name,
        report_date,
        unit_price,
        available_quantity,
        lag(unit_price) over (
            partition by supplier_id, part_id
            order by report_date
        ) as previous_unit_price,
        lag(report_date) over (
            partition by supplier_id, part_id
            order by report_date
        ) as previous_report_date
    from reports
),

final as (
    select
        *,
        unit_price - previous_unit_price as price_change
    from with_previous
)

select * from final
