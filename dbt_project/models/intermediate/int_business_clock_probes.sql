{#- Applies bsec, add_bsec and is_business to the probe instants of the seed: the executable
    check (unit tests T1-T10) that the SQL business clock matches METRICS.md section 1. -#}
with {{ business_clock_ctes() }},

probes as (
    select * from {{ ref('business_clock_probes') }}
),

measured as (
    select
        probe_id,
        {{ bsec('a_at', 'b_at') }} as bsec_seconds,
        {{ calendar_seconds('a_at', 'b_at') }} as calendar_seconds,
        {{ is_business('a_at') }} as is_business_a,
        {{ add_bsec('a_at', 'add_seconds') }} as add_bsec_at
    from probes
)

select * from measured
