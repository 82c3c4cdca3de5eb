{#- Leads (at most one per contact and cycle) and their conversions within the window. -#}
with lead_events as (
    select
        lead_id,
        seq,
        occurred_at,
        conversation_key,
        conversation_id,
        contact_id
    from {{ ref('stg_inbox__events') }}
    where event_type = 'lead'
),

leads as (
    {{ with_cycle_id('lead_events') }}
),

cycles as (
    select cycle_id, contact_id from {{ ref('int_cycles_opened') }}
    where conversation_key in (select conversation_key from lead_events)
),

conversions as (
    select
        conversion_id,
        contact_id,
        kind as conversion_kind,
        amount,
        occurred_at as converted_at,
        {{ timeline_key('occurred_at', 'seq') }} as timeline_key
    from {{ ref('stg_inbox__events') }}
    where event_type = 'conversion' and contact_id is not null
    qualify row_number() over (partition by conversion_id order by seq) = 1
),

assignments as (
    select
        conversation_key,
        agent_id,
        team_id,
        {{ timeline_key('occurred_at', 'seq') }} as timeline_key
    from {{ ref('stg_inbox__events') }}
    -- only the conversations with a lead: the ASOF join below reads no others
    where event_type = 'assignment'
        and conversation_key in (select conversation_key from lead_events)
),

as_of as (
    select as_of_at from {{ ref('stg_inbox__run_as_of') }}
),

first_leads as (
    -- a second lead on the same contact and cycle is the same opportunity
    select
        leads.lead_id,
        leads.cycle_id,
        leads.conversation_key,
        leads.conversation_id,
        coalesce(leads.contact_id, cycles.contact_id) as contact_id,
        leads.occurred_at as lead_at,
        leads.timeline_key
    from leads
    left join cycles
        on leads.cycle_id = cycles.cycle_id
    qualify row_number() over (
        partition by
            coalesce(leads.contact_id, cycles.contact_id), coalesce(leads.cycle_id, leads.lead_id)
        order by leads.occurred_at, leads.seq
    ) = 1
),

attributed_conversions as (
    -- each conversion credits the latest earlier lead of the same contact, if within the window
    select
        conversions.*,
        first_leads.lead_id
    from conversions
    asof inner join first_leads
        on conversions.contact_id = first_leads.contact_id
        and conversions.timeline_key >= first_leads.timeline_key
    where conversions.converted_at
        <= first_leads.lead_at + to_days({{ var('conversion_window_days') }})
),

lead_conversions as (
    select
        lead_id,
        min(converted_at) as converted_at,
        arg_min(conversion_kind, converted_at) as conversion_kind,
        sum(amount) as revenue_amount
    from attributed_conversions
    group by lead_id
),

owners as (
    select
        first_leads.lead_id,
        assignments.agent_id as owner_agent_id,
        assignments.team_id as owner_team_id
    from first_leads
    asof left join assignments
        on first_leads.conversation_key = assignments.conversation_key
        and first_leads.timeline_key >= assignments.timeline_key
),

final as (
    select
        first_leads.lead_id,
        first_leads.cycle_id,
        first_leads.conversation_key,
        first_leads.conversation_id,
        first_leads.contact_id,
        first_leads.lead_at,
        coalesce(owners.owner_agent_id, 'unassigned') as owner_agent_id,
        owners.owner_team_id,
        lead_conversions.converted_at is not null as is_converted,
        lead_conversions.converted_at,
        lead_conversions.conversion_kind,
        lead_conversions.revenue_amount,
        {{ calendar_seconds('first_leads.lead_at', 'lead_conversions.converted_at') }} / 86400.0
            as days_to_convert,
        first_leads.lead_at + to_days({{ var('conversion_window_days') }}) > as_of.as_of_at
            as is_provisional
    from first_leads
    left join lead_conversions
        on first_leads.lead_id = lead_conversions.lead_id
    left join owners
        on first_leads.lead_id = owners.lead_id
    cross join as_of
)

select * from final
