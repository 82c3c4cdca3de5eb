with cycles as not materialized (
    select * from {{ ref('fct_cycles') }}
),

replies as (
    select messages.agent_id, messages.sent_at, cycles.team_id
    from {{ ref('fct_messages') }} as messages
    inner join cycles
        on messages.cycle_id = cycles.cycle_id
    where messages.is_human_reply
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

cycle_slots as (
    select
        isodow(timezone('{{ var("business_timezone") }}', opened_at)) as weekday,
        hour(timezone('{{ var("business_timezone") }}', opened_at)) as hour,
        team_id,
        count(*) as cycles_opened_count
    from cycles
    group by grouping sets ((1, 2, 3), (1, 2))
),

breach_slots as (
    select
        isodow(timezone('{{ var("business_timezone") }}', clock_start_at)) as weekday,
        hour(timezone('{{ var("business_timezone") }}', clock_start_at)) as hour,
        team_id,
        count(*) as sla_breached_count
    from cycles
    where sla_status = 'breached'
    group by grouping sets ((1, 2, 3), (1, 2))
),

reply_slots as (
    select
        isodow(timezone('{{ var("business_timezone") }}', sent_at)) as weekday,
        hour(timezone('{{ var("business_timezone") }}', sent_at)) as hour,
        team_id,
        count(distinct (
            date_trunc('week', timezone('{{ var("business_timezone") }}', sent_at)), agent_id
        )) as agent_weeks
    from replies
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
