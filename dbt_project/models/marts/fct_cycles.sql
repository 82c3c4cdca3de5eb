{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ record_watermark() }}"
    )
}}
{#- Incremental by conversation: a run rewrites the conversations any upstream cycle model
    rewrote after this table's watermark, and those whose stored SLA status the current as_of
    contradicts (an unanswered cycle's deadline passed, or an earlier as_of), so a run that
    failed half-way heals on the next one. -#}
with as_of as (
    select as_of_at from {{ ref('stg_inbox__run_as_of') }}
),

{% if is_incremental() %}
{%- set watermark = model_watermark() %}
scope as (
    {{ cycles_rewritten_since(watermark) }}
    union
    select hash(conversation_id) from {{ this }}
    where not is_answered
        and sla_status in ('pending', 'breached')
        and (sla_status = 'breached') is distinct from
            (sla_deadline_at < (select as_of_at from as_of))
),
{% endif %}

cycles as (
    select * from {{ ref('int_cycles_opened') }}
    {{ in_scope('where') }}
),

responded as (
    select * from {{ ref('int_cycles_responded') }}
    {{ in_scope('where') }}
),

resolved as (
    select * from {{ ref('int_cycles_resolved') }}
    {{ in_scope('where') }}
),

sla as (
    select * from {{ ref('int_cycles_sla') }}
    {{ in_scope('where') }}
),

attributed as (
    select * from {{ ref('int_cycles_attributed') }}
    {{ in_scope('where') }}
),

final as (
    select
        cycles.cycle_id,
        cycles.conversation_id,
        cycles.cycle_number,
        md5(cycles.contact_id) as contact_id,
        cycles.inbox_id,
        attributed.team_id,
        attributed.topic,
        attributed.tags,
        cycles.opened_at,
        {{ local_date('cycles.opened_at') }} as opened_date,
        responded.clock_start_at,
        responded.clock_start_date,
        responded.is_business_start,
        responded.had_bot,
        responded.handoff_at,
        responded.first_response_at,
        coalesce(responded.first_responder_agent_id, 'unassigned') as first_responder_agent_id,
        responded.frt_seconds,
        responded.frt_business_seconds,
        responded.is_answered,
        responded.is_reply_before_clock,
        responded.had_bot and responded.handoff_at is null and not responded.is_answered
            as is_bot_only,
        cast(sla.sla_target_seconds as double) as sla_target_seconds,
        sla.sla_deadline_at,
        sla.sla_status,
        sla.sla_owner_agent_id,
        coalesce(sla.sla_owner_team_id, attributed.team_id) as sla_owner_team_id,
        cycles.resolved_at,
        resolved.resolved_date,
        cycles.resolution_kind,
        resolved.resolving_agent_id,
        resolved.resolution_seconds,
        resolved.resolution_business_seconds,
        coalesce(resolved.is_in_art, false) as is_in_art,
        coalesce(resolved.is_reopened, false) as is_reopened,
        attributed.was_escalated,
        attributed.was_reassigned,
        attributed.csat_score,
        attributed.nps_score,
        attributed.is_lead,
        attributed.converted_at,
        responded.customer_message_count,
        responded.agent_message_count,
        coalesce(resolved.has_clock_anomaly, false) as has_clock_anomaly
    from cycles
    inner join responded on cycles.cycle_id = responded.cycle_id
    inner join sla on cycles.cycle_id = sla.cycle_id
    inner join attributed on cycles.cycle_id = attributed.cycle_id
    left join resolved on cycles.cycle_id = resolved.cycle_id
)

select * from final
