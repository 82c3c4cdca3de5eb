{#- The conversations with a feed event after the oldest watermark of the models incremental by
    conversation: what each of them rewrites this run (touched_conversations()). A table of its
    own so every one of them reads the set with its true size: computed inside each model, its
    size is a guess, and DuckDB then hashes a 10 M-row staging table to probe it instead of the
    other way round (int_cycles_responded: 1.6 s of 1.7). A model whose own watermark is newer
    rewrites a few conversations more, which changes nothing. -#}
{%- set watermark = scope_watermark(
    [
        'int_cycles_opened', 'int_cycles_responded', 'int_cycles_resolved', 'int_cycles_sla',
        'int_cycles_attributed', 'int_surveys_answered', 'int_backlog_segments',
        'int_leads_converted'
    ],
    serving_models=['fct_messages', 'fct_escalations']
) %}
with new_events as (
    select conversation_id
    from {{ ref('stg_inbox__event_keys') }}
    where seq > {{ watermark }} and conversation_id is not null
),

final as (
    select distinct hash(conversation_id) as conversation_key
    from new_events
)

select * from final
