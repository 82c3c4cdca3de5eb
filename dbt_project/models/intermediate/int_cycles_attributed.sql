{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- Per-cycle context: team, topic, tags, escalations, survey scores, lead. Incremental by
    conversation: a run rewrites the conversations with events newer than the stored source_seq,
    and every conversation of a contact with a new lead or conversion. -#}
with
{% if is_incremental() %}
scope as (
    select conversation_id from {{ touched_conversations(with_contacts=true) }}
),
{% endif %}

cycles as not materialized (
    select * from {{ ref('int_cycles_opened') }}
    {{ in_scope('where') }}
),

team_events as (
    select conversation_id, team_id, {{ timeline_key('occurred_at', 'seq') }} as timeline_key
    from {{ ref('stg_inbox__assignments') }}
    where team_id is not null {{ in_scope('and') }}
    union all
    select conversation_id, team_id, {{ timeline_key('occurred_at', 'seq') }} as timeline_key
    from {{ ref('stg_inbox__handoffs') }}
    where team_id is not null {{ in_scope('and') }}
    union all
    select conversation_id, team_id, {{ timeline_key('occurred_at', 'seq') }} as timeline_key
    from {{ ref('stg_inbox__topics') }}
    where team_id is not null {{ in_scope('and') }}
),

cycle_ends as (
    select
        cycle_id,
        conversation_id,
        coalesce(
            {{ timeline_key('resolved_at', 'resolving_seq') }},
            cast('170141183460469231731687303715884105727' as hugeint)
        ) as end_key
    from cycles
),

teams as (
    -- the last team the conversation was routed to by the end of the cycle
    select
        cycle_ends.cycle_id,
        team_events.team_id
    from cycle_ends
    asof left join team_events
        on cycle_ends.conversation_id = team_events.conversation_id
        and cycle_ends.end_key >= team_events.timeline_key
),

scoped_topics as (
    select * from {{ ref('stg_inbox__topics') }}
    {{ in_scope('where') }}
),

topics as (
    {{ with_cycle_id('scoped_topics') }}
),

cycle_topics as (
    select cycle_id, arg_max(topic, timeline_key) as topic
    from topics
    where cycle_id is not null and topic is not null
    group by cycle_id
),

scoped_tags as (
    select * from {{ ref('stg_inbox__tags') }}
    {{ in_scope('where') }}
),

tags as (
    {{ with_cycle_id('scoped_tags') }}
),

cycle_tag_states as (
    select cycle_id, tag, arg_max(tag_action, timeline_key) as last_action
    from tags
    where cycle_id is not null and tag is not null
    group by cycle_id, tag
),

cycle_tags as (
    select cycle_id, string_agg(tag, ',' order by tag) as tags
    from cycle_tag_states
    where last_action = 'added'
    group by cycle_id
),

scoped_escalations as (
    select * from {{ ref('stg_inbox__escalations') }}
    {{ in_scope('where') }}
),

escalations as (
    {{ with_cycle_id('scoped_escalations') }}
),

cycle_escalations as (
    select
        cycle_id,
        true as was_escalated,
        bool_or(level = 'reassign') as was_reassigned
    from escalations
    where cycle_id is not null
    group by cycle_id
),

surveys as (
    select * from {{ ref('int_surveys_answered') }}
    {{ in_scope('where') }}
),

cycle_surveys as (
    select
        cycle_id,
        arg_min(score, sent_at) filter (where survey_kind = 'csat' and score is not null)
            as csat_score,
        arg_min(score, sent_at) filter (where survey_kind = 'nps' and score is not null)
            as nps_score
    from surveys
    where cycle_id is not null
    group by cycle_id
),

leads as (
    select cycle_id, bool_or(true) as is_lead, min(converted_at) as converted_at
    from {{ ref('int_leads_converted') }}
    where cycle_id is not null {{ in_scope('and') }}
    group by cycle_id
),

final as (
    select
        cycles.cycle_id,
        cycles.conversation_id,
        coalesce(teams.team_id, 'unassigned') as team_id,
        cycle_topics.topic,
        cycle_tags.tags,
        coalesce(cycle_escalations.was_escalated, false) as was_escalated,
        coalesce(cycle_escalations.was_reassigned, false) as was_reassigned,
        cycle_surveys.csat_score,
        cycle_surveys.nps_score,
        coalesce(leads.is_lead, false) as is_lead,
        leads.converted_at,
        {{ source_seq() }} as source_seq
    from cycles
    left join teams on cycles.cycle_id = teams.cycle_id
    left join cycle_topics on cycles.cycle_id = cycle_topics.cycle_id
    left join cycle_tags on cycles.cycle_id = cycle_tags.cycle_id
    left join cycle_escalations on cycles.cycle_id = cycle_escalations.cycle_id
    left join cycle_surveys on cycles.cycle_id = cycle_surveys.cycle_id
    left join leads on cycles.cycle_id = leads.cycle_id
)

select * from final
