{{
    config(
        materialized='incremental',
        unique_key='lead_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "{{ delete_rows_missing_from(ref('int_leads_converted'), 'lead_id') }}",
            "{{ record_watermark() }}",
        ]
    )
}}
{#- Incremental by conversation: a run rewrites the leads of the conversations int_leads_converted
    (the leads) or int_cycles_attributed (the cycle's team) rewrote after this table's
    watermark, and deletes the leads int_leads_converted no longer has. -#}
with
{% if is_incremental() %}
{%- set watermark = model_watermark() %}
scope as (
    select conversation_key from {{ ref('int_leads_converted') }}
    where source_seq > {{ watermark }}
    union
    select conversation_key from {{ ref('int_cycles_attributed') }}
    where source_seq > {{ watermark }}
),
{% endif %}

leads as (
    select * from {{ ref('int_leads_converted') }}
    {{ in_scope('where') }}
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
