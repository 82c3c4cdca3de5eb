-- depends_on: {{ ref('int_cycles_opened') }}, {{ ref('int_cycles_responded') }}
-- depends_on: {{ ref('int_cycles_resolved') }}, {{ ref('int_cycles_sla') }}
-- depends_on: {{ ref('int_cycles_attributed') }}
{{
    config(
        materialized='incremental',
        unique_key='conversation_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "{{ delete_rows_missing_from(ref('fct_cycles'), 'cycle_id', \"sla_status = 'breached'\") }}",
            "{{ record_watermark() }}",
        ]
    )
}}
{#- Incremental by conversation: a run rewrites the conversations an upstream cycle model
    rewrote after this table's watermark (as fct_cycles does) and every conversation with an
    unanswered breach, stored or new: its overdue time runs up to each run's as_of, and a new
    as_of turns pending cycles into breaches (or back, when it is earlier). About 31 k of 300 k
    breaches at 10 M messages. A breach that is gone from fct_cycles (a late reply made it met,
    an earlier as_of made it pending) is deleted after the load (delete_rows_missing_from). -#}
with as_of as (
    select as_of_at from {{ ref('stg_inbox__run_as_of') }}
),

{% if is_incremental() %}
{%- set watermark = model_watermark() %}
scope as (
    {{ cycles_rewritten_since(watermark) }}
    union
    select hash(conversation_id) from {{ ref('fct_cycles') }}
    where sla_status = 'breached' and not is_answered
    union
    select hash(conversation_id) from {{ this }}
    where not is_answered
),
{% endif %}

cycles as (
    select * from {{ ref('fct_cycles') }}
    where sla_status = 'breached'
    {% if is_incremental() %}
        and hash(conversation_id) in (select conversation_key from scope)
    {% endif %}
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
