{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        post_hook="{{ delete_later_copies('event_id', 'event_key') }}"
    )
}}
{#- Every event but messages and delivery statuses, one row per event, each type's payload keys
    the models read as typed columns (NULL on the other types; the feed keeps the rest,
    docs/events.md). One model for thirteen event types: one scan of the feed per run instead of
    thirteen (each scan decompresses the payloads of every type), and one dbt node. The agent
    and team events (a few dozen) keep their whole payload (`directory_payload`), which
    stg_inbox__agents and stg_inbox__teams parse: read from the feed, each of the two dims paid
    for a scan of every landed event in a full build (1.0-1.1 s each at 10 M messages).
    Append-only; an event delivered twice keeps its first copy, as in stg_inbox__messages. -#}
{%- set fields_by_type = {
    'status_change': ['status', 'resolution_kind'],
    'assignment': ['agent_id', 'team_id'],
    'handoff': ['team_id'],
    'topic': ['topic', 'team_id'],
    'tag': ['tag', 'action'],
    'escalation': ['level', 'waiting_since', 'agent_id', 'to_agent_id', 'team_id'],
    'survey_sent': ['survey_id', 'kind'],
    'survey_answer': ['survey_id', 'kind', 'score'],
    'lead': ['lead_id'],
    'conversion': ['conversion_id', 'kind', 'amount'],
    'contact': ['contact_id'],
    'agent': ['agent_id'],
    'team': ['team_id'],
} %}
with new_events as not materialized (
    {{ new_inbox_events(fields_by_type.keys() | list) }}
),

parsed as (
    select
        *,
        {{ payload_lists_by_type(fields_by_type) }} as extracted
    from new_events
),

typed as (
    select
        *,
        {{ payload_fields_by_type(fields_by_type) }} as fields
    from parsed
),

renamed as (
    select
        event_id,
        hash(event_id) as event_key,
        seq,
        event_type,
        occurred_at,
        inbox_id,
        conversation_id,
        hash(conversation_id) as conversation_key,
        coalesce(fields.contact_id, contact_id) as contact_id,
        actor_kind,
        actor_id,
        fields.status as status,
        fields.resolution_kind as resolution_kind,
        nullif(fields.agent_id, '') as agent_id,
        nullif(fields.team_id, '') as team_id,
        fields.topic as topic,
        fields.tag as tag,
        fields.action as tag_action,
        fields.level as escalation_level,
        try_cast(fields.waiting_since as timestamptz) as waiting_since_at,
        nullif(fields.to_agent_id, '') as to_agent_id,
        fields.survey_id as survey_id,
        fields.kind as kind,
        try_cast(fields.score as integer) as score,
        coalesce(fields.lead_id, case when event_type = 'lead' then event_id end) as lead_id,
        coalesce(fields.conversion_id, case when event_type = 'conversion' then event_id end)
            as conversion_id,
        try_cast(fields.amount as double) as amount,
        case when event_type in ('agent', 'team') then payload end as directory_payload
    from typed
)

{% if is_incremental() %}
,

deduplicated as (
    {{ first_new_copies('renamed', 'event_id', 'event_key') }}
)

select * from deduplicated
{% else %}
select * from renamed
{% endif %}
