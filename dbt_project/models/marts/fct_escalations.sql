with escalation_events as (
    select * from {{ ref('stg_inbox__events') }}
    where event_type = 'escalation'
),

escalations as (
    {{ with_cycle_id('escalation_events') }}
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
