{{
    config(
        materialized='incremental',
        unique_key='conversation_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- Human replies counted per conversation, team of their cycle, local week, weekday and hour,
    and writing agent: what rpt_hourly_heatmap needs of the replies, so it does not join millions
    of human replies of fct_messages to fct_cycles on every build. A reply counts in the team of
    its cycle (fct_cycles.team_id); a reply before the conversation's first cycle has no cycle
    and counts nowhere.
    Incremental by conversation: a run rewrites the conversations int_cycles_attributed rewrote
    after the stored source_seq, which are every conversation with new events (a new reply, a late
    event that moves cycles) and every one whose cycle teams may have changed. -#}
with
{% if is_incremental() %}
scope as (
    select conversation_key from {{ ref('int_cycles_attributed') }}
    where source_seq > {{ stored_max('source_seq') }}
),
{% endif %}

replies as (
    select conversation_key, sent_at, seq, agent_id
    from {{ ref('stg_inbox__messages') }}
    where is_human_reply {{ in_scope('and') }}
),

conversations as (
    {{ cycle_openings(scoped=true) }}
),

teams as (
    select conversation_key, cycle_number, team_id
    from {{ ref('int_cycles_attributed') }}
    {{ in_scope('where') }}
),

numbered as materialized (
    -- each reply's cycle number first, so the join to the cycles below is on plain columns (a
    -- join condition computed from a third table lets the planner pair every reply with every
    -- cycle of its conversation first)
    select
        replies.conversation_key,
        replies.sent_at,
        replies.agent_id,
        {{ cycle_number(
            'conversations.opening_keys', timeline_key('replies.sent_at', 'replies.seq')
        ) }} as cycle_number
    from replies
    inner join conversations
        on replies.conversation_key = conversations.conversation_key
),

cycled as materialized (
    select
        numbered.conversation_key,
        numbered.sent_at,
        numbered.agent_id,
        teams.team_id
    from numbered
    inner join teams
        on numbered.conversation_key = teams.conversation_key
        and numbered.cycle_number = teams.cycle_number
),

hours as (
    {{ local_hours('cycled', ['sent_at']) }}
),

slotted as (
    select
        cycled.conversation_key,
        cycled.team_id,
        cycled.agent_id,
        {{ local_hour_at('cycled.sent_at', 'hours') }} as local_hour_at
    from cycled
    left join hours
        on {{ utc_hour_key('cycled.sent_at') }} = hours.hour_key
),

counted as (
    select
        conversation_key,
        team_id,
        cast(date_trunc('week', local_hour_at) as date) as week_start_date,
        cast(isodow(local_hour_at) as integer) as weekday,
        cast(hour(local_hour_at) as integer) as hour,
        agent_id,
        count(*) as reply_count
    from slotted
    group by conversation_key, team_id, week_start_date, weekday, hour, agent_id
),

final as (
    select
        *,
        {{ feed_seq() }} as source_seq
    from counted
)

select * from final
