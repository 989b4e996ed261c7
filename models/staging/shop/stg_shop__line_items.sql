{{
    config(
        materialized='incremental',
        unique_key=['order_id', 'line_number'],
        incremental_strategy=keyed_incremental_strategy(),
        partition_by=spark_partition_by('ship_month'),
    )
}}

with

source as (
    select * from {{ source('shop', 'lineitem') }}
),

loads as (
    select * from {{ ref('stg_shop__loads') }}
),

{{ committed_rows_since_last_run(
    'source', 'loads', as='committed', loads=ref('stg_shop__loads')
) }},

renamed as (
    select
        {{ surrogate_key(['l_orderkey', 'l_linenumber']) }} as order_line_id,
        cast(l_orderkey as {{ dbt.type_bigint() }}) as order_id,
        cast(l_linenumber as {{ dbt.type_int() }}) as line_number,
        cast(l_partkey as {{ dbt.type_bigint() }}) as part_id,
        cast(l_suppkey as {{ dbt.type_bigint() }}) as supplier_id,
        cast(l_quantity as {{ dbt.type_int() }}) as quantity,
        cast(l_extendedprice as decimal(15, 2)) as extended_price,
        cast(l_discount as decimal(15, 2)) as discount,
        cast(l_tax as decimal(15, 2)) as tax,
        cast(l_returnflag as {{ dbt.type_string() }}) as return_flag,
        cast(l_linestatus as {{ dbt.type_string() }}) as line_status,
        cast(l_shipdate as date) as ship_date,
        cast({{ dbt.date_trunc('month', 'cast(l_shipdate as date)') }} as date) as ship_month,
        cast(l_commitdate as date) as commit_date,
        cast(l_receiptdate as date) as receipt_date,
        cast(l_shipinstruct as {{ dbt.type_string() }}) as ship_instructions,
        cast(l_shipmode as {{ dbt.type_string() }}) as ship_mode,
        cast(l_comment as {{ dbt.type_string() }}) as line_comment,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        load_id as _loaded_load_id,
        loaded_at as _loaded_at
    from committed
),

{{ newest_version_per_key(
    'renamed',
    unique_key='order_line_id',
    partition_by=['order_id', 'line_number'],
    as='newest_versions',
) }},

{{ complete_partitions('newest_versions', 'order_line_id', 'ship_month', as='final') }}

select * from final
