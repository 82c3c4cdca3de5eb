{#- One row per survey sent (or answered without a recorded send), with its first answer. -#}
with sent as (
    {{ with_cycle_id(ref('stg_inbox__surveys_sent')) }}
),

sent_once as (
    select * from sent
    qualify row_number() over (partition by survey_id order by occurred_at, seq) = 1
),

answers as (
    select *
    from {{ ref('stg_inbox__survey_answers') }}
    where score is not null
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
        answers_cycled.score
    from sent_once
    full outer join answers_cycled
        on sent_once.survey_id = answers_cycled.survey_id
    where coalesce(sent_once.survey_id, answers_cycled.survey_id) is not null
)

select * from final
