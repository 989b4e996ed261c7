with

source as (
    select * from {{ source('partners', 'partner_files') }}
),

loads as (
    select * from {{ ref('stg_partners__loads') }}
),

{{ committed_rows_since_last_run(
    'source', 'loads', as='committed', loads=ref('stg_partners__loads')
) }},

renamed as (
    select
        {{ surrogate_key(['source_file', 'file_sha256']) }} as file_delivery_id,
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(partner as {{ dbt.type_string() }}) as partner_name,
        cast(feed_date as date) as report_date,
        cast(file_sha256 as {{ dbt.type_string() }}) as file_sha256,
        cast(size_bytes as {{ dbt.type_bigint() }}) as size_bytes,
        cast(modified_at as {{ dbt.type_timestamp() }}) as modified_at,
        cast(status as {{ dbt.type_string() }}) as file_status,
        cast(duplicate_of as {{ dbt.type_string() }}) as duplicate_of,
        cast(data_rows as {{ dbt.type_bigint() }}) as data_row_count,
        cast(loaded_rows as {{ dbt.type_bigint() }}) as loaded_row_count,
        cast(quarantined_rows as {{ dbt.type_bigint() }}) as quarantined_row_count,
        cast(_dlt_load_id as {{ dbt.type_string() }}) as _loaded_load_id
    from committed
)

select * from renamed
