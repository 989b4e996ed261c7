{{
    config(
        materialized=keyed_materialization(),
        unique_key='part_id',
        incremental_strategy=keyed_incremental_strategy(),
    )
}}

with

parts as {{ not_materialized() }} (
    select * from {{ ref('stg_shop__parts') }}
),

part_suppliers as {{ not_materialized() }} (
    select * from {{ ref('stg_shop__part_suppliers') }}
),

{% if is_incremental() %}

-- A part is rebuilt when it changed itself or when any of its supply offers changed.
-- One watermark per input, compared with `>`, not the other marts' shared `>=`: every
-- part (and offer) of the shop carries one and the same `updated_at`, so `>=` would
-- rebuild them all every day. `>` is the shop pipeline's own rule (it reads only rows
-- later than the newest it read), so no row that reaches staging is older than the
-- newest of its table already here.
watermarks as (
    select
        max(updated_at) as parts_updated_at,
        max(supply_updated_at) as supply_updated_at
    from {{ this }}
),

changed_part_ids as (
    select parts.part_id
    from parts
    cross join watermarks
    where
        watermarks.parts_updated_at is null
        or parts.updated_at > watermarks.parts_updated_at

    union

    select part_suppliers.part_id
    from part_suppliers
    cross join watermarks
    where
        watermarks.supply_updated_at is null
        or part_suppliers.updated_at > watermarks.supply_updated_at
),

parts_to_build as (
    select parts.*
    from parts
    inner join changed_part_ids
        on parts.part_id = changed_part_ids.part_id
),

part_suppliers_to_build as (
    select part_suppliers.*
    from part_suppliers
    inner join changed_part_ids
        on part_suppliers.part_id = changed_part_ids.part_id
),

{% else %}

parts_to_build as (
    select * from parts
),

part_suppliers_to_build as (
    select * from part_suppliers
),

{% endif %}

supply as (
    select
        part_id,
        count(*) as supplier_count,
        -- The contract's types on every engine: PostgreSQL's min drops numeric(15, 2),
        -- and an incremental run would then see a changed column type (dim_customers);
        -- DuckDB sums integers to hugeint.
        cast(min(supply_cost) as decimal(15, 2)) as min_supply_cost,
        cast(sum(available_quantity) as {{ dbt.type_bigint() }}) as available_quantity,
        max(updated_at) as supply_updated_at
    from part_suppliers_to_build
    group by part_id
),

final as (
    select
        parts_to_build.part_id,
        parts_to_build.part_name,
        parts_to_build.manufacturer,
        parts_to_build.brand,
        parts_to_build.part_type,
        parts_to_build.size,
        parts_to_build.container,
        parts_to_build.retail_price,
        supply.min_supply_cost,
        parts_to_build.updated_at,
        supply.supply_updated_at,
        coalesce(supply.supplier_count, 0) as supplier_count,
        coalesce(supply.available_quantity, 0) as available_quantity
    from parts_to_build
    left join supply
        on parts_to_build.part_id = supply.part_id
)

select * from final
