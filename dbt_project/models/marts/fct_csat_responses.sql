with surveys as (
    select * from {{ ref('int_surveys_answered') }}
),

cycles as (
    select cycle_id, team_id from {{ ref('int_cycles_attributed') }}
),

resolved as (
    select cycle_id, resolving_agent_id from {{ ref('int_cycles_resolved') }}
),

final as (
    select
        surveys.survey_id,
        surveys.cycle_id,
        surveys.conversation_id,
        surveys.survey_kind,
        surveys.sent_at,
        {{ local_date('surveys.sent_at') }} as sent_date,
        surveys.answered_at,
        {{ local_date('surveys.answered_at') }} as answered_date,
        surveys.score,
        case when surveys.survey_kind = 'csat' then surveys.score >= 4 end as is_satisfied,
        case
            when surveys.survey_kind <> 'nps' or surveys.score is null then null
            when surveys.score >= 9 then 'promoter'
            when surveys.score >= 7 then 'passive'
            else 'detractor'
        end as nps_category,
        coalesce(resolved.resolving_agent_id, 'unassigned') as agent_id,
        coalesce(cycles.team_id, 'unassigned') as team_id
    from surveys
    left join cycles on surveys.cycle_id = cycles.cycle_id
    left join resolved on surveys.cycle_id = resolved.cycle_id
)

select * from final
