-- depends_on: {{ ref('int_conversations_touched') }}
{#- The backlog state of each cycle as segments of constant (team, agent, status, age bucket):
    cut at every status change, assignment, start and end of a wait some snapshot instant sees,
    and age-bucket threshold while the cycle is open. fct_backlog_snapshots counts segments per
    snapshot with a sweep line, so its cost follows the number of events, not cycles x
    snapshots.
    Segments no snapshot of the calendar sees (most last minutes) are dropped: against every
    calendar instant, not only those up to as_of, so a segment never depends on as_of and a cycle
    that stays open is not rewritten when as_of moves on.
    Incremental by conversation: a run rewrites the conversations with events newer than the
    stored source_seq.
    Change markers, for fct_backlog_snapshots (incremental by time): a run that changed some
    conversation's counts appends one marker row (is_change_marker, no conversation, zero length)
    at the first instant where any rewritten conversation's count per backlog cell differs from
    the stored rows'; a full build writes one at -infinity. Markers carry the run's start
    (marked_at): fct_backlog_snapshots recounts from the earliest marker newer than its own last
    build. -#}
{{
    config(
        materialized='incremental',
        unique_key='conversation_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
with
{% if is_incremental() %}
scope as (
    select conversation_key from {{ touched_conversations() }}
),
{% endif %}

cycles as not materialized (
    -- cycles are keyed by (conversation_key, cycle_number) below, integers all the way
    select conversation_key, cycle_number, cycle_id, opened_at, resolved_at
    from {{ ref('int_cycles_opened') }}
    {{ in_scope('where') }}
),

attributes as not materialized (
    select conversation_key, cycle_number, team_id from {{ ref('int_cycles_attributed') }}
    {{ in_scope('where') }}
),

snapshots as (
    select snapshot_at from ({{ backlog_snapshot_instants() }})
),

waits as materialized (
    -- only the waits some snapshot instant sees (~1 in 9 at 10 M messages: most last minutes).
    -- One no snapshot sees changes no count: its start and end would only cut the segments
    -- around it, which then hold the same state on both sides of it, and a segment inside it
    -- is dropped below anyway; without its two change points the window below sorts ~2.7 M
    -- points instead of 9.2 M. Against every calendar instant, as observed_points. Materialized:
    -- three readers would each repeat the ASOF join.
    select
        responded.conversation_key,
        responded.cycle_number,
        responded.wait.started_at as wait_started_at,
        responded.wait.ended_at as wait_ended_at
    from (
        select conversation_key, cycle_number, unnest(waits) as wait
        from {{ ref('int_cycles_responded') }}
        where len(waits) > 0 {{ in_scope('and') }}
    ) as responded
    asof left join snapshots
        on responded.wait.started_at <= snapshots.snapshot_at
    where responded.wait.ended_at is null or snapshots.snapshot_at < responded.wait.ended_at
),

status_changes as not materialized (
    select conversation_key, status, occurred_at as changed_at
    from {{ ref('stg_inbox__events') }}
    where event_type = 'status_change' {{ in_scope('and') }}
),

assignments as not materialized (
    select conversation_key, agent_id, team_id, occurred_at as assigned_at
    from {{ ref('stg_inbox__events') }}
    where event_type = 'assignment' {{ in_scope('and') }}
),

change_points as (
    select conversation_key, cycle_number, opened_at as changed_at from cycles
    union
    select cycles.conversation_key, cycles.cycle_number, status_changes.changed_at
    from cycles
    inner join status_changes
        on cycles.conversation_key = status_changes.conversation_key
        and status_changes.changed_at > cycles.opened_at
        and status_changes.changed_at < coalesce(cycles.resolved_at, timestamptz 'infinity')
    union
    select cycles.conversation_key, cycles.cycle_number, assignments.assigned_at
    from cycles
    inner join assignments
        on cycles.conversation_key = assignments.conversation_key
        and assignments.assigned_at > cycles.opened_at
        and assignments.assigned_at < coalesce(cycles.resolved_at, timestamptz 'infinity')
    union
    select conversation_key, cycle_number, wait_started_at from waits
    union
    select conversation_key, cycle_number, wait_ended_at from waits where wait_ended_at is not null
),

points as (
    select
        change_points.conversation_key,
        change_points.cycle_number,
        cycles.opened_at,
        change_points.changed_at as segment_start_at,
        coalesce(
            lead(change_points.changed_at) over (
                partition by change_points.conversation_key, change_points.cycle_number
                order by change_points.changed_at
            ),
            cycles.resolved_at,
            timestamptz 'infinity'
        ) as segment_end_at
    from change_points
    inner join cycles
        on change_points.conversation_key = cycles.conversation_key
        and change_points.cycle_number = cycles.cycle_number
    where change_points.changed_at >= cycles.opened_at
        and change_points.changed_at < coalesce(cycles.resolved_at, timestamptz 'infinity')
),

observed_points as (
    -- a state no snapshot sees (most last minutes) cannot change any count: drop it early
    select points.*
    from points
    asof inner join snapshots
        on points.segment_start_at <= snapshots.snapshot_at
    where snapshots.snapshot_at < points.segment_end_at
),

with_status as (
    select
        observed_points.*,
        case
            when status_changes.changed_at >= observed_points.opened_at
                and status_changes.status in ('pending', 'snoozed')
                then status_changes.status
            else 'open'
        end as status
    from observed_points
    asof left join status_changes
        on observed_points.conversation_key = status_changes.conversation_key
        and observed_points.segment_start_at >= status_changes.changed_at
),

with_assignee as (
    select
        with_status.*,
        assignments.agent_id,
        assignments.team_id as assigned_team_id
    from with_status
    asof left join assignments
        on with_status.conversation_key = assignments.conversation_key
        and with_status.segment_start_at >= assignments.assigned_at
),

with_wait as (
    select
        with_assignee.*,
        case
            when waits.wait_ended_at is null or waits.wait_ended_at > with_assignee.segment_start_at
                then waits.wait_started_at
        end as waiting_since_at
    from with_assignee
    asof left join waits
        on with_assignee.conversation_key = waits.conversation_key
        and with_assignee.cycle_number = waits.cycle_number
        and with_assignee.segment_start_at >= waits.wait_started_at
),

bucket_bounds as (
    select * from (values
        (0, '<5m', interval 0 minute, interval 5 minute),
        (1, '5-10m', interval 5 minute, interval 10 minute),
        (2, '10-20m', interval 10 minute, interval 20 minute),
        (3, '20-60m', interval 20 minute, interval 60 minute),
        (4, '1-4h', interval 60 minute, interval 4 hour),
        (5, '>4h', interval 4 hour, interval 100000 day)
    ) as bounds(bucket_order, age_bucket, age_from, age_to)
),

answered_segments as (
    select
        conversation_key,
        cycle_number,
        segment_start_at,
        segment_end_at,
        status,
        agent_id,
        assigned_team_id,
        'answered' as age_bucket,
        false as is_unattended
    from with_wait
    where waiting_since_at is null
),

waiting_segments as (
    select
        with_wait.conversation_key,
        with_wait.cycle_number,
        greatest(with_wait.segment_start_at, with_wait.waiting_since_at + bucket_bounds.age_from)
            as segment_start_at,
        least(with_wait.segment_end_at, with_wait.waiting_since_at + bucket_bounds.age_to)
            as segment_end_at,
        with_wait.status,
        with_wait.agent_id,
        with_wait.assigned_team_id,
        bucket_bounds.age_bucket,
        true as is_unattended
    from with_wait
    cross join bucket_bounds
    where with_wait.waiting_since_at is not null
),

segments as (
    select * from answered_segments
    union all
    select * from waiting_segments where segment_end_at > segment_start_at
),

rewritten as (
    select
        cycles.cycle_id,
        segments.conversation_key,
        segments.segment_start_at,
        segments.segment_end_at,
        coalesce(segments.assigned_team_id, attributes.team_id, 'unassigned') as team_id,
        coalesce(segments.agent_id, 'unassigned') as agent_id,
        segments.status,
        segments.age_bucket,
        segments.is_unattended,
        {{ feed_seq() }} as source_seq,
        false as is_change_marker,
        cast(null as timestamptz) as marked_at
    from segments
    inner join cycles
        on segments.conversation_key = cycles.conversation_key
        and segments.cycle_number = cycles.cycle_number
    left join attributes
        on segments.conversation_key = attributes.conversation_key
        and segments.cycle_number = attributes.cycle_number
),

{% if is_incremental() %}
stored as (
    select * from {{ this }}
    where not is_change_marker and conversation_key in (select conversation_key from scope)
),

{%- for version, relation in [('new', 'rewritten'), ('stored', 'stored')] %}

{{ version }}_deltas as (
    -- the sweep line of fct_backlog_snapshots, per conversation: equal deltas up to an instant
    -- mean equal counts in every cell up to it
    select
        conversation_key, team_id, agent_id, status, age_bucket, is_unattended, changed_at,
        sum(delta) as delta
    from (
        select conversation_key, team_id, agent_id, status, age_bucket, is_unattended,
            segment_start_at as changed_at, 1 as delta
        from {{ relation }}
        union all
        select conversation_key, team_id, agent_id, status, age_bucket, is_unattended,
            segment_end_at, -1
        from {{ relation }}
        where segment_end_at < timestamptz 'infinity'
    )
    group by all
),
{%- endfor %}

first_change as (
    select min(coalesce(new_deltas.changed_at, stored_deltas.changed_at)) as changed_at
    from new_deltas
    full outer join stored_deltas
        on new_deltas.conversation_key = stored_deltas.conversation_key
        and new_deltas.team_id = stored_deltas.team_id
        and new_deltas.agent_id = stored_deltas.agent_id
        and new_deltas.status = stored_deltas.status
        and new_deltas.age_bucket = stored_deltas.age_bucket
        and new_deltas.is_unattended = stored_deltas.is_unattended
        and new_deltas.changed_at = stored_deltas.changed_at
    where coalesce(new_deltas.delta, 0) <> coalesce(stored_deltas.delta, 0)
),
{% endif %}

markers as (
    select
        null::varchar as cycle_id,
        null::ubigint as conversation_key,
        {% if is_incremental() -%}
        first_change.changed_at as segment_start_at,
        first_change.changed_at as segment_end_at,
        {%- else -%}
        -- a full build: every snapshot may have changed
        timestamptz '-infinity' as segment_start_at,
        timestamptz '-infinity' as segment_end_at,
        {%- endif %}
        null::varchar as team_id,
        null::varchar as agent_id,
        null::varchar as status,
        null::varchar as age_bucket,
        null::boolean as is_unattended,
        {{ feed_seq() }} as source_seq,
        true as is_change_marker,
        timestamptz '{{ run_started_at.isoformat() }}' as marked_at
    {% if is_incremental() -%}
    from first_change
    where first_change.changed_at is not null
    {%- endif %}
),

final as (
    select * from rewritten
    union all by name
    select * from markers
)

select * from final
