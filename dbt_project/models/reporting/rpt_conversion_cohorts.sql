with leads as (
    select * from {{ ref('fct_leads') }}
),

as_of as (
    select as_of_at from {{ ref('stg_inbox__run_as_of') }}
),

cohorts as (
    select
        lead_week_start_date,
        coalesce(team_id, 'all') as team_id,
        count(*) as leads_count,
        count(*) filter (where is_converted) as converted_count,
        {{ exact_amount_sum('revenue_amount') }} as revenue_amount
    from leads
    group by grouping sets ((lead_week_start_date, team_id), (lead_week_start_date))
),

final as (
    select
        cohorts.lead_week_start_date,
        {{ iso_week('cohorts.lead_week_start_date') }} as iso_week,
        cohorts.team_id,
        cohorts.leads_count,
        cohorts.converted_count,
        cohorts.converted_count / cohorts.leads_count as conversion_rate,
        cohorts.revenue_amount,
        -- the cohort's last possible lead (end of the local week) is still inside the window
        timezone(
            '{{ var("business_timezone") }}',
            cast(cohorts.lead_week_start_date + interval 7 day as timestamp)
        ) + to_days({{ var('conversion_window_days') }}) > as_of.as_of_at as is_provisional
    from cohorts
    cross join as_of
)

select * from final
