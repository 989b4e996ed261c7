with

source as (
    select * from {{ source('partners_quarantine', 'rejected_rows') }}
),

loads as (
    select * from {{ ref('stg_partners__quarantine_loads') }}
),

{{ committed_rows_since_last_run(
    'source', 'loads', as='committed', loads=ref('stg_partners__quarantine_loads')
) }},

renamed as (
    select
        {{ surrogate_key(['file_sha256', 'source_line']) }} as rejected_row_id,
        cast(partner as {{ dbt.type_string() }}) as partner_name,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(source_line as {{ dbt.type_int() }}) as source_line,
        cast(feed_date as date) as report_date,
        cast(reason as {{ dbt.type_string() }}) as rejection_reason,
        cast(raw_line as {{ dbt.type_string() }}) as raw_line,
        cast(file_sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(_dlt_load_id as {{ dbt.type_string() }}) as _loaded_load_id
    from committed
)

select * from renamed
