with cycles as not materialized (
    select * from {{ ref('fct_cycles') }}
),

reasons as (
    select opened_date, team_id, 'topic' as reason_kind, topic as reason
    from cycles
    where topic is not null
    union all
    select opened_date, team_id, 'tag' as reason_kind, unnest(string_split(tags, ',')) as reason
    from cycles
    where tags is not null
),

final as (
    select
        cast(date_trunc('week', opened_date) as date) as week_start_date,
        {{ iso_week("date_trunc('week', opened_date)") }} as iso_week,
        team_id,
        reason_kind,
        reason,
        count(*) as cycles_count
    from reasons
    group by all
)

select * from final
