-- The floor: FRT and first-response SLA status per care cycle, straight from the raw events, in
-- one query, as an analyst would write it without dbt (METRICS.md sections 2 and 3, calendar SLA
-- clock). $as_of decides pending vs breached, like the pipeline's `as_of`.
with messages as (
    select
        conversation_id,
        occurred_at,
        seq,
        payload ->> '$.direction' as direction,
        payload ->> '$.sender_kind' as sender_kind,
        payload ->> '$.message_type' as message_type,
        coalesce(try_cast(payload ->> '$.is_survey_answer' as boolean), false) as is_survey_answer
    from raw.inbox_events
    where event_type = 'message'
    qualify row_number() over (
        partition by coalesce(payload ->> '$.message_id', event_id) order by seq
    ) = 1
),

boundaries as (
    select conversation_id, occurred_at, seq, true as is_open, null as resolution_kind
    from messages
    where direction = 'inbound' and sender_kind = 'customer' and not is_survey_answer
        and message_type not in ('reaction', 'system', 'request_welcome')
    union all
    select conversation_id, occurred_at, seq, false, payload ->> '$.resolution_kind'
    from raw.inbox_events
    where event_type = 'status_change' and payload ->> '$.status' = 'resolved'
),

edges as (
    -- opens after a resolve (or first) and resolves after an open alternate: one pair per cycle
    select *
    from boundaries
    qualify is_open <> coalesce(
        lag(is_open) over (partition by conversation_id order by occurred_at, seq), false
    )
),

cycles as (
    select
        conversation_id,
        occurred_at as opened_at,
        cast(epoch_us(occurred_at) as hugeint) * 10000000000000 + seq as opening_key,
        case when not next_is_open then next_at end as resolved_at,
        case when not next_is_open then next_kind end as resolution_kind
    from (
        select
            *,
            lead(is_open) over by_time as next_is_open,
            lead(occurred_at) over by_time as next_at,
            lead(resolution_kind) over by_time as next_kind
        from edges
        window by_time as (partition by conversation_id order by occurred_at, seq)
    )
    where is_open
),

activity as (
    select
        conversation_id,
        occurred_at,
        cast(epoch_us(occurred_at) as hugeint) * 10000000000000 + seq as event_key,
        case when sender_kind = 'agent' then 'reply' else 'bot' end as kind
    from messages
    where direction = 'outbound' and sender_kind in ('agent', 'bot')
    union all
    select
        conversation_id,
        occurred_at,
        cast(epoch_us(occurred_at) as hugeint) * 10000000000000 + seq,
        'handoff'
    from raw.inbox_events
    where event_type = 'handoff'
),

cycle_activity as (
    select
        cycles.opening_key,
        cycles.conversation_id,
        min(activity.occurred_at) filter (
            where activity.kind = 'reply'
            and activity.occurred_at <= coalesce(cycles.resolved_at, activity.occurred_at)
        ) as first_response_at,
        min(activity.occurred_at) filter (where activity.kind = 'handoff') as handoff_at,
        bool_or(activity.kind <> 'reply') as had_bot
    from activity
    asof inner join cycles
        on activity.conversation_id = cycles.conversation_id
        and activity.event_key >= cycles.opening_key
    group by all
),

started as (
    select
        cycles.*,
        cycle_activity.first_response_at,
        cycle_activity.handoff_at,
        coalesce(cycle_activity.had_bot, false) as had_bot,
        coalesce(cycle_activity.handoff_at, cycles.opened_at) as clock_start_at
    from cycles
    left join cycle_activity
        on cycles.conversation_id = cycle_activity.conversation_id
        and cycles.opening_key = cycle_activity.opening_key
),

business_start as (
    select started.*, intervals.open_at is not null as is_business_start
    from started
    left join raw.business_intervals as intervals
        on started.clock_start_at >= intervals.open_at
        and started.clock_start_at < intervals.close_at
),

business_frt as (
    select
        business_start.conversation_id,
        business_start.opening_key,
        sum(
            epoch_us(least(business_start.first_response_at, intervals.close_at))
            - epoch_us(greatest(business_start.clock_start_at, intervals.open_at))
        ) / 1e6 as overlap_seconds
    from business_start
    inner join raw.business_intervals as intervals
        on intervals.open_at < business_start.first_response_at
        and intervals.close_at > business_start.clock_start_at
    group by all
),

deadlined as (
    select
        business_start.*,
        case
            when business_start.first_response_at < business_start.clock_start_at then 0.0
            else (
                epoch_us(business_start.first_response_at) - epoch_us(business_start.clock_start_at)
            ) / 1e6
        end as frt_seconds,
        case
            when business_start.first_response_at is null then null
            when business_start.first_response_at < business_start.clock_start_at then 0.0
            else coalesce(business_frt.overlap_seconds, 0.0)
        end as frt_business_seconds,
        business_start.clock_start_at
        + to_seconds(case when business_start.is_business_start then 300 else 1800 end)
            as sla_deadline_at
    from business_start
    left join business_frt
        on business_start.conversation_id = business_frt.conversation_id
        and business_start.opening_key = business_frt.opening_key
)

select
    conversation_id,
    opened_at,
    clock_start_at,
    first_response_at,
    frt_seconds,
    frt_business_seconds,
    sla_deadline_at,
    case
        when had_bot and handoff_at is null and first_response_at is null then 'excluded'
        when first_response_at <= sla_deadline_at then 'met'
        when resolution_kind = 'customer' and resolved_at <= sla_deadline_at then 'excluded'
        when first_response_at is not null then 'breached'
        when sla_deadline_at < $as_of then 'breached'
        else 'pending'
    end as sla_status
from deadlined
