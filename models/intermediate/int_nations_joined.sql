with

nations as (
    select * from {{ ref('stg_shop__nations') }}
),

regions as (
    select * from {{ ref('stg_shop__regions') }}
),

nation_codes as (
    select * from {{ ref('nation_codes') }}
),

joined as (
    select
        nations.nation_id,
        nations.nation_name,
        nation_codes.iso_alpha2,
        nation_codes.iso_alpha3,
        nation_codes.currency_code,
        regions.region_id,
        regions.region_name
    from nations
    inner join regions
        on nations.region_id = regions.region_id
    left join nation_codes
        on nations.nation_name = nation_codes.nation_name
)

select * from joined
