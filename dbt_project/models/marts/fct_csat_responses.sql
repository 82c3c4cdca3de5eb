{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ record_watermark() }}"
    )
}}
{#- Incremental by conversation: a run rewrites the conversations whose surveys, cycle team or
    resolving agent an upstream model rewrote after this table's watermark. -#}
with
{% if is_incremental() %}
{%- set watermark = model_watermark() %}
scope as (
    {%- for model in ['int_surveys_answered', 'int_cycles_attributed', 'int_cycles_resolved'] %}
    {% if not loop.first %}union{% endif %}
    select conversation_key from {{ ref(model) }} where source_seq > {{ watermark }}
    {%- endfor %}
),
{% endif %}

surveys as (
    select * from {{ ref('int_surveys_answered') }}
    {{ in_scope('where') }}
),

cycles as (
    select cycle_id, team_id from {{ ref('int_cycles_attributed') }}
    {{ in_scope('where') }}
),

resolved as (
    select cycle_id, resolving_agent_id from {{ ref('int_cycles_resolved') }}
    {{ in_scope('where') }}
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
