with

parts as (
    select * from {{ ref('stg_shop__parts') }}
),

part_suppliers as (
    select * from {{ ref('stg_shop__part_suppliers') }}
),

supply as (
    select
        part_id,
        count(*) as supplier_count,
        min(supply_cost) as min_supply_cost,
        -- bigint on every engine: DuckDB sums integers to hugeint
        cast(sum(available_quantity) as {{ dbt.type_bigint() }}) as available_quantity
    from part_suppliers
    group by part_id
),

final as (
    select
        parts.part_id,
        parts.part_name,
        parts.manufacturer,
        parts.brand,
        parts.part_type,
        parts.size,
        parts.container,
        parts.retail_price,
        supply.min_supply_cost,
        parts.updated_at,
        coalesce(supply.supplier_count, 0) as supplier_count,
        coalesce(supply.available_quantity, 0) as available_quantity
    from parts
    left join supply
        on parts.part_id = supply.part_id
)

select * from final
