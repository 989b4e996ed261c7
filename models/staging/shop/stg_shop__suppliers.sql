{{
    config(
        materialized=keyed_materialization(),
        unique_key='supplier_id',
        incremental_strategy=keyed_incremental_strategy(),
    )
}}

with

source as (
    select * from {{ source('shop', 'supplier') }}
),

loads as (
    select * from {{ ref('stg_shop__loads') }}
),

{{ committed_rows_since_last_run(
    'source', 'loads', as='committed', loads=ref('stg_shop__loads')
) }},

renamed as (
    select
        cast(s_suppkey as {{ dbt.type_bigint() }}) as supplier_id,
        cast(s_name as {{ dbt.type_string() }}) as supplier_name,
        cast(s_nationkey as {{ dbt.type_bigint() }}) as nation_id,
        cast(s_acctbal as decimal(15, 2)) as account_balance,
        cast(s_comment as {{ dbt.type_string() }}) as supplier_comment,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        load_id as _loaded_load_id,
        loaded_at as _loaded_at
    from committed
),

{{ newest_version_per_key(
    'renamed',
    unique_key='supplier_id',
    as='newest_versions',
) }}

select * from newest_versions
