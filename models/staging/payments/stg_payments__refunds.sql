with

source as (
    select * from {{ source('payments', 'refunds') }}
),

loads as (
    select * from {{ ref('stg_payments__loads') }}
),

{{ committed_rows_since_last_run(
    'source', 'loads', as='committed', loads=ref('stg_payments__loads')
) }},

renamed as (
    select
        cast(id as {{ dbt.type_string() }}) as refund_id,
        cast(charge as {{ dbt.type_string() }}) as charge_id,
        cast(status as {{ dbt.type_string() }}) as refund_status,
        cast(reason as {{ dbt.type_string() }}) as refund_reason,
        cast(amount as {{ dbt.type_bigint() }}) as amount_cents,
        {{ cents_to_dollars('amount') }} as amount,
        {{ epoch_seconds_to_timestamp('created') }} as created_at,
        cast(_dlt_load_id as {{ dbt.type_string() }}) as _loaded_load_id
    from committed
),

-- Refunds never change, but a retried load may land one twice: keep the first.
ranked as (
    select
        *,
        row_number() over (partition by refund_id order by _loaded_load_id) as version_rank
    from renamed
),

latest as (
    select
        refund_id,
        charge_id,
        refund_status,
        refund_reason,
        amount_cents,
        amount,
        created_at,
        cast(created_at as date) as created_date,
        _loaded_load_id
    from ranked
    where version_rank = 1
)

select * from latest
