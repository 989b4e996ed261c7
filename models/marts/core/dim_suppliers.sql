with

suppliers as (
    select * from {{ ref('stg_shop__suppliers') }}
),

nations as (
    select * from {{ ref('int_nations_joined') }}
),

part_suppliers as (
    select * from {{ ref('stg_shop__part_suppliers') }}
),

catalogue as (
    select
        supplier_id,
        count(*) as part_count,
        -- bigint on every engine: DuckDB sums integers to hugeint
        cast(sum(available_quantity) as {{ dbt.type_bigint() }}) as available_quantity
    from part_suppliers
    group by supplier_id
),

final as (
    select
        suppliers.supplier_id,
        {{ pii('suppliers.supplier_name', 'supplier_name') }},
        suppliers.nation_id,
        nations.nation_name,
        nations.region_name,
        suppliers.account_balance,
        suppliers.updated_at,
        coalesce(catalogue.part_count, 0) as part_count,
        coalesce(catalogue.available_quantity, 0) as available_quantity
    from suppliers
    inner join nations
        on suppliers.nation_id = nations.nation_id
    left join catalogue
        on suppliers.supplier_id = catalogue.supplier_id
)

select * from final
