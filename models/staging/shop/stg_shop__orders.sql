{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy=keyed_incremental_strategy(),
        partition_by=spark_partition_by('order_month'),
    )
}}

with

source as (
    select * from {{ source('shop', 'orders') }}
),

loads as (
    select * from {{ ref('stg_shop__loads') }}
),

{{ committed_rows_since_last_run(
    'source', 'loads', as='committed', loads=ref('stg_shop__loads')
) }},

renamed as (
    select
        cast(o_orderkey as {{ dbt.type_bigint() }}) as order_id,
        cast(o_custkey as {{ dbt.type_bigint() }}) as customer_id,
        cast(o_orderstatus as {{ dbt.type_string() }}) as order_status,
        cast(o_totalprice as decimal(15, 2)) as total_price,
        cast(o_orderdate as date) as order_date,
        cast({{ dbt.date_trunc('month', 'cast(o_orderdate as date)') }} as date) as order_month,
        cast(o_orderpriority as {{ dbt.type_string() }}) as order_priority,
        cast(o_clerk as {{ dbt.type_string() }}) as clerk,
        cast(o_shippriority as {{ dbt.type_int() }}) as ship_priority,
        cast(o_fulfilment_status as {{ dbt.type_string() }}) as fulfilment_status,
        cast(o_comment as {{ dbt.type_string() }}) as order_comment,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        load_id as _loaded_load_id,
        loaded_at as _loaded_at
    from committed
),

{{ newest_version_per_key(
    'renamed',
    unique_key='order_id',
    as='newest_versions',
) }},

{{ complete_partitions('newest_versions', 'order_id', 'order_month', as='final') }}

select * from final
