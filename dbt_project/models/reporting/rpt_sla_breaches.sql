with cycles as (
    select * from {{ ref('fct_cycles') }}
    where sla_status = 'breached'
),

as_of as (
    select as_of_at from {{ ref('stg_inbox__run_as_of') }}
),

final as (
    select
        cycles.cycle_id,
        cycles.conversation_id,
        cycles.team_id,
        cycles.sla_owner_agent_id as owner_agent_id,
        cycles.topic,
        cycles.clock_start_at,
        cycles.sla_deadline_at,
        cycles.first_response_at,
        -- unanswered breaches are overdue up to the as-of instant of the run
        {{ calendar_seconds('cycles.sla_deadline_at',
            'coalesce(cycles.first_response_at, as_of.as_of_at)') }} as overdue_seconds,
        cycles.is_answered,
        cast(date_trunc('week', cycles.clock_start_date) as date) as week_start_date,
        {{ iso_week("date_trunc('week', cycles.clock_start_date)") }} as iso_week
    from cycles
    cross join as_of
)

select * from final
