with escalations as (
    {{ with_cycle_id(ref('stg_inbox__escalations')) }}
),

final as (
    select
        escalations.event_id as escalation_id,
        escalations.cycle_id,
        escalations.conversation_id,
        escalations.level,
        escalations.escalated_at,
        {{ local_date('escalations.escalated_at') }} as escalated_date,
        escalations.waiting_since_at,
        coalesce(escalations.from_agent_id, 'unassigned') as from_agent_id,
        case
            when escalations.level = 'reassign'
                then coalesce(escalations.to_agent_id, 'unassigned')
        end as to_agent_id,
        coalesce(escalations.team_id, 'unassigned') as team_id
    from escalations
)

select * from final
