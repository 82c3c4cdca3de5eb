{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail'
    )
}}
{#- Delivery status events, append-only and narrow: the only reader, fct_messages, keeps each
    status's first time per message (min), which a duplicated event cannot change, and finds its
    message by (conversation_key, message_key), two integers: message_key = hash(message_id),
    unique within a conversation (9 M unique ids would cost more to store than every other
    column). -#}
with new_events as (
    {{ new_inbox_events(['message_status']) }}
),

parsed as (
    select
        *,
        {{ payload_fields(['message_id', 'status', 'error_code']) }} as fields
    from new_events
),

renamed as (
    select
        seq,
        occurred_at as status_at,
        hash(conversation_id) as conversation_key,
        hash(fields.message_id) as message_key,
        fields.status as status,
        fields.error_code as error_code
    from parsed
    where fields.message_id is not null
)

select * from renamed
