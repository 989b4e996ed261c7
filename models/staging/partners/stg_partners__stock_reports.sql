with

source as (
    select * from {{ source('partners', 'partner_inventory') }}
),

loads as (
    select * from {{ ref('stg_partners__loads') }}
),

{{ committed_rows_since_last_run(
    'source', 'loads', as='committed', loads=ref('stg_partners__loads')
) }},

renamed as (
    select
        {{ surrogate_key(['supplier_id', 'part_id', 'feed_date']) }} as stock_report_id,
        cast(partner as {{ dbt.type_string() }}) as partner_name,
        cast(supplier_id as {{ dbt.type_bigint() }}) as supplier_id,
        cast(part_id as {{ dbt.type_bigint() }}) as part_id,
        cast(feed_date as date) as report_date,
        cast(qty_available as {{ dbt.type_bigint() }}) as available_quantity,
        cast(unit_price as decimal(15, 2)) as unit_price,
        cast(lead_time_days as {{ dbt.type_int() }}) as lead_time_days,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(source_line as {{ dbt.type_int() }}) as source_line,
        cast(_dlt_load_id as {{ dbt.type_string() }}) as _loaded_load_id
    from committed
),

-- A partner that corrects a day's file sends it again with new content: the newest
-- load of that day's report wins.
ranked as (
    select
        *,
        row_number() over (
            partition by supplier_id, part_id, report_date
            order by _loaded_load_id desc, source_file desc
        ) as version_rank
    from renamed
),

latest as (
    select
        stock_report_id,
        partner_name,
        supplier_id,
        part_id,
        report_date,
        available_quantity,
        unit_price,
        lead_time_days,
        source_file,
        source_line,
        _loaded_load_id
    from ranked
    where version_rank = 1
)

select * from latest
