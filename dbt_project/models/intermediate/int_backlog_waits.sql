{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- Waiting periods per cycle: from the oldest unanswered customer message to the next human
    reply (open-ended while unanswered). A backlog snapshot is "unattended" inside one.
    Incremental by conversation, like the cycle models. -#}
with messages as (
    select * from {{ ref('int_messages_cycled') }}
    where cycle_id is not null and (is_customer_message or is_human_reply)
    {% if is_incremental() %}
        and conversation_id in {{ touched_conversations(with_contacts=false) }}
    {% endif %}
),

ordered as (
    select
        cycle_id,
        conversation_id,
        sent_at,
        seq,
        is_customer_message,
        lag(is_customer_message) over (partition by cycle_id order by sent_at, seq)
            as previous_is_customer
    from messages
),

starts_and_ends as (
    -- a wait starts at a customer message following a reply (or none) and ends at the reply
    select *
    from ordered
    where (is_customer_message and coalesce(previous_is_customer, false) = false)
        or (not is_customer_message and coalesce(previous_is_customer, false))
),

paired as (
    select
        cycle_id,
        conversation_id,
        is_customer_message,
        sent_at as wait_started_at,
        lead(sent_at) over (partition by cycle_id order by sent_at, seq) as wait_ended_at
    from starts_and_ends
)

select
    cycle_id,
    conversation_id,
    wait_started_at,
    wait_ended_at,
    {{ source_seq() }} as source_seq
from paired
where is_customer_message
