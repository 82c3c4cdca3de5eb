-- depends_on: {{ ref('int_conversations_touched') }}
{{
    config(
        materialized='incremental',
        unique_key='conversation_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- One row per survey sent (or answered without a recorded send), with its first answer and the
    cycle it belongs to. Incremental by conversation: a survey's row depends only on its own send
    and answer events and on the cycles of its conversation, so a run rewrites the conversations
    with events newer than the stored source_seq. -#}
with
{% if is_incremental() %}
scope as (
    select conversation_key from {{ touched_conversations() }}
),
{% endif %}

survey_events as (
    select
        event_type,
        seq,
        occurred_at,
        conversation_key,
        conversation_id,
        survey_id,
        kind as survey_kind,
        score
    from {{ ref('stg_inbox__events') }}
    where {{ event_type_in(['survey_sent', 'survey_answer']) }} {{ in_scope('and') }}
),

scoped_sent as (
    select * from survey_events where event_type = 'survey_sent'
),

sent as (
    {{ with_cycle_id('scoped_sent', scoped=true) }}
),

sent_once as (
    select * from sent
    qualify row_number() over (partition by survey_id order by occurred_at, seq) = 1
),

answers as (
    select *
    from survey_events
    where event_type = 'survey_answer' and score is not null
    -- a survey counts its first answer only
    qualify row_number() over (partition by survey_id order by occurred_at, seq) = 1
),

answers_cycled as (
    {{ with_cycle_id('answers', scoped=true) }}
),

final as (
    select
        coalesce(sent_once.survey_id, answers_cycled.survey_id) as survey_id,
        coalesce(sent_once.cycle_id, answers_cycled.cycle_id) as cycle_id,
        coalesce(sent_once.conversation_key, answers_cycled.conversation_key)
            as conversation_key,
        coalesce(sent_once.conversation_id, answers_cycled.conversation_id) as conversation_id,
        coalesce(sent_once.survey_kind, answers_cycled.survey_kind) as survey_kind,
        sent_once.sent_at,
        answers_cycled.answered_at,
        answers_cycled.score,
        {{ feed_seq() }} as source_seq
    from (select *, occurred_at as sent_at from sent_once) as sent_once
    full outer join (select *, occurred_at as answered_at from answers_cycled) as answers_cycled
        on sent_once.survey_id = answers_cycled.survey_id
    where coalesce(sent_once.survey_id, answers_cycled.survey_id) is not null
)

select * from final
