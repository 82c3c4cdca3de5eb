-- depends_on: {{ ref('int_conversations_touched') }}
{{
    config(
        materialized='incremental',
        unique_key='conversation_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- Leads (at most one per contact and cycle) and their conversions within the window.
    Incremental by conversation: a run rewrites every lead of the contacts whose leads may change,
    whichever conversation holds them, since a conversion credits the contact's latest earlier
    lead: the contacts with a new lead or conversion, and those of the conversations that changed
    on their own (an event after the stored source_seq moves a cycle, adds a lead or an
    assignment; a later as_of closes a window). Leads without a conversation share one
    conversation_key (the hash of NULL), so their contacts are always in scope. -#}
with as_of as (
    select as_of_at from {{ ref('stg_inbox__run_as_of') }}
),

{% if is_incremental() %}
{%- set watermark = stored_max('source_seq') %}
stored as not materialized (
    select * from {{ this }}
),

new_events as (
    select event_type, conversation_key, contact_id
    from {{ ref('stg_inbox__events') }}
    where seq > {{ watermark }} and {{ event_type_in(['lead', 'conversion']) }}
),

changed as (
    select conversation_key from {{ touched_conversations() }}
    union
    -- a new lead without a conversation, which touched_conversations leaves out
    select conversation_key from new_events where event_type = 'lead'
    union
    -- a window the current as_of closed (or, earlier, reopened)
    select conversation_key from stored
    where is_provisional is distinct from (
        lead_at + to_days({{ var('conversion_window_days') }}) > (select as_of_at from as_of)
    )
),

scope_contacts as (
    select contact_id from new_events
    union
    select contact_id from stored
    where conversation_key in (select conversation_key from changed) or conversation_id is null
    union
    -- a lead without a contact of its own takes its cycle's
    select contact_id from {{ ref('int_cycles_opened') }}
    where conversation_key in (select conversation_key from changed)
),

scope as (
    select conversation_key from changed
    union
    select conversation_key from stored
    where contact_id in (select contact_id from scope_contacts)
),
{% endif %}

lead_events as (
    select
        lead_id,
        seq,
        occurred_at,
        conversation_key,
        conversation_id,
        contact_id
    from {{ ref('stg_inbox__events') }}
    where event_type = 'lead' {{ in_scope('and') }}
),

leads as (
    -- the cycles of the conversations with a lead only (related_only)
    {{ with_cycle_id(
        'lead_events', cycle_columns={'cycle_contact_id': 'contact_id'}, related_only=true
    ) }}
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

first_leads as (
    -- a second lead on the same contact and cycle is the same opportunity
    select
        lead_id,
        cycle_id,
        conversation_key,
        conversation_id,
        coalesce(contact_id, cycle_contact_id) as contact_id,
        occurred_at as lead_at,
        timeline_key
    from leads
    qualify row_number() over (
        partition by coalesce(contact_id, cycle_contact_id), coalesce(cycle_id, lead_id)
        order by occurred_at, seq
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
        {{ exact_amount_sum('amount') }} as revenue_amount
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
            as is_provisional,
        {{ feed_seq() }} as source_seq
    from first_leads
    left join lead_conversions
        on first_leads.lead_id = lead_conversions.lead_id
    left join owners
        on first_leads.lead_id = owners.lead_id
    cross join as_of
)

select * from final
