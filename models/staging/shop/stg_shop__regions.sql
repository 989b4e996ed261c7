with

source as (
    select * from {{ source('shop', 'region') }}
),

loads as (
    select * from {{ ref('stg_shop__loads') }}
),

{{ committed_rows_since_last_run(
    'source', 'loads', as='committed', loads=ref('stg_shop__loads')
) }},

renamed as (
    select
        cast(r_regionkey as {{ dbt.type_bigint() }}) as region_id,
        cast(r_name as {{ dbt.type_string() }}) as region_name,
        cast(r_comment as {{ dbt.type_string() }}) as region_comment,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        load_id as _loaded_load_id,
        loaded_at as _loaded_at
    from committed
),

{{ newest_version_per_key(
    'renamed',
    unique_key='region_id',
    as='newest_versions',
) }}

select * from newest_versions
