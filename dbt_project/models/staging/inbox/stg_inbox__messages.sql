{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail'
    )
}}
{#- Materialised once (the busiest event types): later runs append only events with a higher seq
    than any seen, skipping event ids already stored, so a redelivery is still counted once. The
    payload is parsed once per event (`payload_fields`), after deduplication. -#}
with deduplicated_events as (
    {{ new_inbox_events('message') }}
),

parsed as (
    select
        *,
        {{ payload_fields([
            'message_id', 'direction', 'sender_kind', 'message_type', 'automation_kind',
            'template_name', 'reply_to_message_id', 'interactive_id', 'is_survey_answer'
        ]) }} as fields
    from deduplicated_events
),

extracted as (
    select
        event_id,
        seq,
        occurred_at as sent_at,
        inbox_id,
        conversation_id,
        contact_id,
        actor_kind,
        actor_id,
        coalesce(fields.message_id, event_id) as message_id,
        fields.direction as direction,
        fields.sender_kind as sender_kind,
        fields.message_type as message_type,
        nullif(fields.automation_kind, '') as automation_kind,
        nullif(fields.template_name, '') as template_name,
        fields.reply_to_message_id as reply_to_message_id,
        fields.interactive_id as interactive_id,
        coalesce(try_cast(fields.is_survey_answer as boolean), false) as is_survey_answer
    from parsed
),

deduplicated_messages as (
    -- a webhook delivered twice under different event ids is still one WhatsApp message
    select * from extracted
    {% if is_incremental() %}
    where message_id not in (
        select message_id from {{ this }}
        where message_id in (select message_id from extracted)
    )
    {% endif %}
    qualify row_number() over (partition by message_id order by seq) = 1
),

final as (
    select
        *,
        case when sender_kind = 'agent' then actor_id end as agent_id,
        message_type = 'template' or template_name is not null as is_template,
        -- a public outbound message written (or a template chosen) by an agent
        direction = 'outbound' and sender_kind = 'agent' as is_human_reply,
        -- what can open a care cycle: a real inbound customer message; an answer to the survey
        -- of the cycle just resolved is not a new request (the inbox flags it)
        direction = 'inbound'
        and sender_kind = 'customer'
        and message_type not in ('reaction', 'system', 'request_welcome')
        and not is_survey_answer as is_customer_message
    from deduplicated_messages
)

select * from final
