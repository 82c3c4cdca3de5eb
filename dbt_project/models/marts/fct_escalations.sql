-- depends_on: {{ ref('int_conversations_touched') }}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ record_watermark() }}"
    )
}}
{#- Incremental by conversation: a run rewrites every escalation of the conversations with events
    newer than this table's watermark (a late customer message can move an escalation to another
    cycle); escalation events are never deleted, so no stored row can go missing upstream. -#}
with
{% if is_incremental() %}
scope as (
    select conversation_key from {{ touched_conversations() }}
),
{% endif %}

escalation_events as (
    select * from {{ ref('stg_inbox__events') }}
    where event_type = 'escalation' {{ in_scope('and') }}
),

escalations as (
    {{ with_cycle_id('escalation_events', scoped=true) }}
),

final as (
    select
        escalations.event_id as escalation_id,
        escalations.cycle_id,
        escalations.conversation_id,
        escalations.escalation_level as level,
        escalations.occurred_at as escalated_at,
        {{ local_date('escalations.occurred_at') }} as escalated_date,
        escalations.waiting_since_at,
        coalesce(escalations.agent_id, 'unassigned') as from_agent_id,
        case
            when escalations.escalation_level = 'reassign'
                then coalesce(escalations.to_agent_id, 'unassigned')
        end as to_agent_id,
        coalesce(escalations.team_id, 'unassigned') as team_id
    from escalations
)

select * from final
