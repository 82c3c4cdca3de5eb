{#- Cycles and breaches come from fct_cycles; active agents from int_replies_slotted, read directly
    (an intermediate, one layer further down than usual): fct_messages has no team, and joining
    its millions of human replies to fct_cycles on every build made this the slowest report.
    Local hours come from local_hours(), one timezone conversion per UTC hour instead of per
    cycle. -#}
with cycles as not materialized (
    select * from {{ ref('fct_cycles') }}
),

replies as (
    select * from {{ ref('int_replies_slotted') }}
),

weeks as (
    -- every week from the first to the last cycle counts, busy or not
    select
        greatest(
            1,
            cast(datediff(
                'week',
                date_trunc('week', min(opened_date)),
                date_trunc('week', max(opened_date))
            ) as bigint) + 1
        ) as weeks_count
    from cycles
),

hours as (
    {{ local_hours('cycles', ['opened_at', 'clock_start_at']) }}
),

cycle_hours as (
    select
        {{ local_hour_at('cycles.opened_at', 'hours') }} as local_hour_at,
        cycles.team_id
    from cycles
    left join hours on {{ utc_hour_key('cycles.opened_at') }} = hours.hour_key
),

breach_hours as (
    select
        {{ local_hour_at('cycles.clock_start_at', 'hours') }} as local_hour_at,
        cycles.team_id
    from cycles
    left join hours on {{ utc_hour_key('cycles.clock_start_at') }} = hours.hour_key
    where cycles.sla_status = 'breached'
),

cycle_slots as (
    select
        isodow(local_hour_at) as weekday,
        hour(local_hour_at) as hour,
        team_id,
        count(*) as cycles_opened_count
    from cycle_hours
    group by grouping sets ((1, 2, 3), (1, 2))
),

breach_slots as (
    select
        isodow(local_hour_at) as weekday,
        hour(local_hour_at) as hour,
        team_id,
        count(*) as sla_breached_count
    from breach_hours
    group by grouping sets ((1, 2, 3), (1, 2))
),

agent_weeks as (
    -- each agent replying in a team, local week and hour, once
    select distinct team_id, week_start_date, weekday, hour, agent_id
    from replies
),

reply_slots as (
    select
        weekday,
        hour,
        team_id,
        count(distinct (week_start_date, agent_id)) as agent_weeks
    from agent_weeks
    group by grouping sets ((1, 2, 3), (1, 2))
),

slots as (
    select weekday, hour, coalesce(team_id, 'all') as team_id from cycle_slots
    union
    select weekday, hour, coalesce(team_id, 'all') from breach_slots
    union
    select weekday, hour, coalesce(team_id, 'all') from reply_slots
),

final as (
    select
        cast(slots.weekday as integer) as weekday,
        cast(slots.hour as integer) as hour,
        slots.team_id,
        cast(coalesce(cycle_slots.cycles_opened_count, 0) as bigint) as cycles_opened_count,
        weeks.weeks_count,
        coalesce(cycle_slots.cycles_opened_count, 0) / weeks.weeks_count as avg_cycles_per_week,
        coalesce(reply_slots.agent_weeks, 0) / weeks.weeks_count as agents_active_avg,
        cast(coalesce(breach_slots.sla_breached_count, 0) as bigint) as sla_breached_count
    from slots
    cross join weeks
    left join cycle_slots
        on slots.weekday = cycle_slots.weekday
        and slots.hour = cycle_slots.hour
        and slots.team_id = coalesce(cycle_slots.team_id, 'all')
    left join breach_slots
        on slots.weekday = breach_slots.weekday
        and slots.hour = breach_slots.hour
        and slots.team_id = coalesce(breach_slots.team_id, 'all')
    left join reply_slots
        on slots.weekday = reply_slots.weekday
        and slots.hour = reply_slots.hour
        and slots.team_id = coalesce(reply_slots.team_id, 'all')
)

select * from final
