with leads as (
    select * from {{ ref('int_leads_converted') }}
),

cycles as (
    select cycle_id, team_id from {{ ref('int_cycles_attributed') }}
    where conversation_key in (select conversation_key from leads)
),

final as (
    select
        leads.lead_id,
        leads.cycle_id,
        leads.conversation_id,
        md5(leads.contact_id) as contact_id,
        leads.lead_at,
        {{ local_date('leads.lead_at') }} as lead_date,
        cast(date_trunc('week', {{ local_date('leads.lead_at') }}) as date) as lead_week_start_date,
        leads.owner_agent_id,
        coalesce(leads.owner_team_id, cycles.team_id, 'unassigned') as team_id,
        leads.is_converted,
        leads.converted_at,
        leads.conversion_kind,
        leads.revenue_amount,
        leads.days_to_convert,
        leads.is_provisional
    from leads
    left join cycles on leads.cycle_id = cycles.cycle_id
)

select * from final
