{{
    config(
        materialized='incremental',
        unique_key='contact_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- One row per contact with what dim_contacts shows: the first message (any direction, by
    (occurred_at, seq)), the latest contact event (its inbox stands in for a contact that never
    wrote) and the care cycles, counted per conversation.
    Incremental by contact: a run folds into the stored rows of the contacts it touches the
    messages and contact events after its stored source_seq (staging is append-only, so the
    earliest and the latest of old and new are those of all) and the cycle counts of the
    conversations int_cycles_opened rewrote after it (a rewrite replaces a conversation whole, so
    its new count replaces the stored one; a conversation has one contact, METRICS.md section 2).
    contact_key (a hash) keys the probes and deletes: on 645 k contact ids, strings that share a
    long prefix, each string probe costs tens of milliseconds. -#}
{%- if is_incremental() %}
{%- set watermark = stored_max('source_seq') %}
{%- endif %}
with messages as (
    select
        contact_id,
        inbox_id,
        sent_at,
        {{ timeline_key('sent_at', 'seq') }} as message_key
    from {{ ref('stg_inbox__messages') }}
    where contact_id is not null
    {% if is_incremental() %}
        and seq > {{ watermark }}
    {% endif %}
),

contact_events as (
    select
        contact_id,
        inbox_id,
        {{ timeline_key('occurred_at', 'seq') }} as event_key
    from {{ ref('stg_inbox__events') }}
    where event_type = 'contact' and contact_id is not null
    {% if is_incremental() %}
        and seq > {{ watermark }}
    {% endif %}
),

conversation_cycles as (
    select contact_id, conversation_key, count(*) as cycle_count
    from {{ ref('int_cycles_opened') }}
    where contact_id is not null
    {% if is_incremental() %}
        and source_seq > {{ watermark }}
    {% endif %}
    group by contact_id, conversation_key
),

{% if is_incremental() %}
touched as (
    select hash(contact_id) as contact_key from messages
    union
    select hash(contact_id) from contact_events
    union
    select hash(contact_id) from conversation_cycles
),

stored as (
    select * from {{ this }}
    where contact_key in (select contact_key from touched)
),
{% endif %}

first_messages as (
    select
        contact_id,
        min(message_key) as first_key,
        arg_min(inbox_id, message_key) as inbox_id,
        min(sent_at) as first_seen_at
    from (
        select contact_id, inbox_id, sent_at, message_key from messages
        {% if is_incremental() %}
        union all
        select contact_id, inbox_id, first_seen_at, first_key from stored
        where first_key is not null
        {% endif %}
    )
    group by contact_id
),

latest_contact_events as (
    select
        contact_id,
        max(event_key) as contact_event_key,
        arg_max(inbox_id, event_key) as contact_inbox_id
    from (
        select contact_id, inbox_id, event_key from contact_events
        {% if is_incremental() %}
        union all
        select contact_id, contact_inbox_id, contact_event_key from stored
        where contact_event_key is not null
        {% endif %}
    )
    group by contact_id
),

conversation_counts as (
    select contact_id, conversation_key, cycle_count from conversation_cycles
    {% if is_incremental() %}
    union all
    -- the stored counts of the conversations not rewritten
    select stored.contact_id, entries.entry.key, entries.entry.value
    from stored
    cross join unnest(map_entries(stored.conversation_cycle_counts)) as entries (entry)
    where entries.entry.key not in (select conversation_key from conversation_cycles)
    {% endif %}
),

cycle_counts as (
    select
        contact_id,
        map_from_entries(list((conversation_key, cycle_count))) as conversation_cycle_counts,
        sum(cycle_count) as cycle_count
    from conversation_counts
    group by contact_id
),

contacts as (
    -- a contact exists once it wrote or a contact event named it
    select contact_id from first_messages
    union
    select contact_id from latest_contact_events
),

final as (
    select
        contacts.contact_id,
        hash(contacts.contact_id) as contact_key,
        first_messages.inbox_id,
        first_messages.first_key,
        first_messages.first_seen_at,
        latest_contact_events.contact_inbox_id,
        latest_contact_events.contact_event_key,
        cycle_counts.conversation_cycle_counts,
        cast(coalesce(cycle_counts.cycle_count, 0) as bigint) as cycle_count,
        {{ feed_seq() }} as source_seq
    from contacts
    left join first_messages on contacts.contact_id = first_messages.contact_id
    left join latest_contact_events on contacts.contact_id = latest_contact_events.contact_id
    left join cycle_counts on contacts.contact_id = cycle_counts.contact_id
)

select * from final
