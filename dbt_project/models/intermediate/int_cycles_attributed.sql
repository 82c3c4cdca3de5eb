-- depends_on: {{ ref('int_conversations_touched') }}, {{ ref('stg_inbox__event_keys') }}
{{
    config(
        materialized='incremental',
        unique_key='conversation_key',
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
    select conversation_key from {{ touched_conversations(with_contacts=true) }}
),
{% endif %}

cycles as (
    select * from {{ ref('int_cycles_opened') }}
    {{ in_scope('where') }}
),

context_events as (
    select
        event_type,
        seq,
        occurred_at,
        conversation_key,
        team_id,
        topic,
        tag,
        tag_action,
        escalation_level
    from {{ ref('stg_inbox__events') }}
    where {{ event_type_in(['assignment', 'handoff', 'topic', 'tag', 'escalation']) }}
        {{ in_scope('and') }}
),

cycled as (
    {{ with_cycle_id('context_events', scoped=true) }}
),

team_events as (
    select conversation_key, team_id, timeline_key
    from cycled
    where team_id is not null and event_type in ('assignment', 'handoff', 'topic')
),

cycle_ends as (
    select
        cycle_id,
        conversation_key,
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
        on cycle_ends.conversation_key = team_events.conversation_key
        and cycle_ends.end_key >= team_events.timeline_key
),

cycle_context as (
    select
        cycle_id,
        arg_max(topic, timeline_key) filter (where event_type = 'topic' and topic is not null)
            as topic,
        bool_or(event_type = 'escalation') as was_escalated,
        bool_or(event_type = 'escalation' and escalation_level = 'reassign') as was_reassigned
    from cycled
    where cycle_id is not null
    group by cycle_id
),

cycle_tag_states as (
    select cycle_id, tag, arg_max(tag_action, timeline_key) as last_action
    from cycled
    where cycle_id is not null and event_type = 'tag' and tag is not null
    group by cycle_id, tag
),

cycle_tags as (
    select cycle_id, string_agg(tag, ',' order by tag) as tags
    from cycle_tag_states
    where last_action = 'added'
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
        cycles.conversation_key,
        cycles.cycle_number,
        cycles.conversation_id,
        coalesce(teams.team_id, 'unassigned') as team_id,
        cycle_context.topic,
        cycle_tags.tags,
        coalesce(cycle_context.was_escalated, false) as was_escalated,
        coalesce(cycle_context.was_reassigned, false) as was_reassigned,
        cycle_surveys.csat_score,
        cycle_surveys.nps_score,
        coalesce(leads.is_lead, false) as is_lead,
        leads.converted_at,
        {{ feed_seq() }} as source_seq
    from cycles
    left join teams on cycles.cycle_id = teams.cycle_id
    left join cycle_context on cycles.cycle_id = cycle_context.cycle_id
    left join cycle_tags on cycles.cycle_id = cycle_tags.cycle_id
    left join cycle_surveys on cycles.cycle_id = cycle_surveys.cycle_id
    left join leads on cycles.cycle_id = leads.cycle_id
)

select * from final
