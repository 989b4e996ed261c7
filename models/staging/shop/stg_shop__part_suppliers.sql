{{
    config(
        materialized=keyed_materialization(),
        unique_key=['part_id', 'supplier_id'],
        incremental_strategy=keyed_incremental_strategy(),
    )
}}

with

source as (
    select * from {{ source('shop', 'partsupp') }}
),

loads as (
    select * from {{ ref('stg_shop__loads') }}
),

{{ committed_rows_since_last_run(
    'source', 'loads', as='committed', loads=ref('stg_shop__loads')
) }},

renamed as (
    select
        {{ surrogate_key(['ps_partkey', 'ps_suppkey']) }} as part_supplier_id,
        cast(ps_partkey as {{ dbt.type_bigint() }}) as part_id,
        cast(ps_suppkey as {{ dbt.type_bigint() }}) as supplier_id,
        cast(ps_availqty as {{ dbt.type_int() }}) as available_quantity,
        cast(ps_supplycost as decimal(15, 2)) as supply_cost,
        cast(ps_comment as {{ dbt.type_string() }}) as part_supplier_comment,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        load_id as _loaded_load_id,
        loaded_at as _loaded_at
    from committed
),

{{ newest_version_per_key(
    'renamed',
    unique_key='part_supplier_id',
    partition_by=['part_id', 'supplier_id'],
    as='newest_versions',
) }}

select * from newest_versions
