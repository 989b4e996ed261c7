{{
    config(
        materialized=keyed_materialization(),
        unique_key='part_id',
        incremental_strategy=keyed_incremental_strategy(),
    )
}}

with

source as (
    select * from {{ source('shop', 'part') }}
),

loads as (
    select * from {{ ref('stg_shop__loads') }}
),

{{ committed_rows_since_last_run(
    'source', 'loads', as='committed', loads=ref('stg_shop__loads')
) }},

renamed as (
    select
        cast(p_partkey as {{ dbt.type_bigint() }}) as part_id,
        cast(p_name as {{ dbt.type_string() }}) as part_name,
        cast(p_mfgr as {{ dbt.type_string() }}) as manufacturer,
        cast(p_brand as {{ dbt.type_string() }}) as brand,
        cast(p_type as {{ dbt.type_string() }}) as part_type,
        cast(p_size as {{ dbt.type_int() }}) as size,
        cast(p_container as {{ dbt.type_string() }}) as container,
        cast(p_retailprice as decimal(15, 2)) as retail_price,
        cast(p_comment as {{ dbt.type_string() }}) as part_comment,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        load_id as _loaded_load_id,
        loaded_at as _loaded_at
    from committed
),

{{ newest_version_per_key(
    'renamed',
    unique_key='part_id',
    as='newest_versions',
) }}

select * from newest_versions
