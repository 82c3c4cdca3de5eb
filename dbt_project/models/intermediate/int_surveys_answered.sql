{{
    config(
        materialized='incremental',
        unique_key='survey_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- One row per survey sent (or answered without a recorded send), with its first answer.
    Incremental by survey: a survey's row depends only on its own send and answer events and on
    the cycles of the conversations holding them, so a run rewrites the surveys with a new event
    and those with an event in a conversation touched since the stored source_seq. -#}
with
{% if is_incremental() %}
{%- set watermark = stored_max('source_seq') %}
scope as (
    select conversation_id from {{ touched_conversations(with_contacts=false) }}
),

touched_surveys as (
    select survey_id from {{ ref('stg_inbox__surveys_sent') }}
    where seq > {{ watermark }} or conversation_id in (select conversation_id from scope)
    union
    select survey_id from {{ ref('stg_inbox__survey_answers') }}
    where seq > {{ watermark }} or conversation_id in (select conversation_id from scope)
),
{% endif %}

scoped_sent as (
    select * from {{ ref('stg_inbox__surveys_sent') }}
    {% if is_incremental() %}
    where survey_id in (select survey_id from touched_surveys)
    {% endif %}
),

sent as (
    {{ with_cycle_id('scoped_sent') }}
),

sent_once as (
    select * from sent
    qualify row_number() over (partition by survey_id order by occurred_at, seq) = 1
),

answers as (
    select *
    from {{ ref('stg_inbox__survey_answers') }}
    where score is not null
    {% if is_incremental() %}
        and survey_id in (select survey_id from touched_surveys)
    {% endif %}
    -- a survey counts its first answer only
    qualify row_number() over (partition by survey_id order by occurred_at, seq) = 1
),

answers_cycled as (
    {{ with_cycle_id('answers') }}
),

final as (
    select
        coalesce(sent_once.survey_id, answers_cycled.survey_id) as survey_id,
        coalesce(sent_once.cycle_id, answers_cycled.cycle_id) as cycle_id,
        coalesce(sent_once.conversation_id, answers_cycled.conversation_id) as conversation_id,
        coalesce(sent_once.survey_kind, answers_cycled.survey_kind) as survey_kind,
        sent_once.sent_at,
        answers_cycled.answered_at,
        answers_cycled.score,
        {{ source_seq() }} as source_seq
    from sent_once
    full outer join answers_cycled
        on sent_once.survey_id = answers_cycled.survey_id
    where coalesce(sent_once.survey_id, answers_cycled.survey_id) is not null
)

select * from final
