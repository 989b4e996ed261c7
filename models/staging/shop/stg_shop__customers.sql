{{
    config(
        materialized=keyed_materialization(),
        unique_key='customer_id',
        incremental_strategy=keyed_incremental_strategy(),
    )
}}

with

source as (
    select * from {{ source('shop', 'customer') }}
),

loads as (
    select * from {{ ref('stg_shop__loads') }}
),

{{ committed_rows_since_last_run(
    'source', 'loads', as='committed', loads=ref('stg_shop__loads')
) }},

renamed as (
    select
        cast(c_custkey as {{ dbt.type_bigint() }}) as customer_id,
        cast(c_name as {{ dbt.type_string() }}) as customer_name,
        cast(c_nationkey as {{ dbt.type_bigint() }}) as nation_id,
        cast(c_acctbal as decimal(15, 2)) as account_balance,
        cast(c_mktsegment as {{ dbt.type_string() }}) as market_segment,
        cast(c_loyalty_tier as {{ dbt.type_string() }}) as loyalty_tier,
        cast(c_comment as {{ dbt.type_string() }}) as customer_comment,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        load_id as _loaded_load_id,
        loaded_at as _loaded_at
    from committed
),

{{ newest_version_per_key(
    'renamed',
    unique_key='customer_id',
    as='newest_versions',
) }}

select * from newest_versions
