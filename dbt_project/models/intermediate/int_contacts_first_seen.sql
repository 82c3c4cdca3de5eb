{{
    config(
        materialized='incremental',
        unique_key='contact_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
{#- Each contact's first message (any direction), kept incrementally so dim_contacts reads one
    row per contact instead of every message. stg_inbox__messages is append-only, so a run folds
    the messages with a higher seq than any stored into the stored first message of their
    contacts: the earliest of both is the earliest overall. -#}
{%- if is_incremental() %}
{%- set watermark = stored_max('source_seq') %}
{%- endif %}
with messages as (
    select
        contact_id,
        inbox_id,
        sent_at,
        seq,
        {{ timeline_key('sent_at', 'seq') }} as first_key
    from {{ ref('stg_inbox__messages') }}
    where contact_id is not null
    {% if is_incremental() %}
        and seq > {{ watermark }}
    {% endif %}
),

candidates as (
    select
        contact_id,
        inbox_id,
        first_key,
        sent_at as first_seen_at,
        seq as source_seq
    from messages
    {% if is_incremental() %}
    union all
    select contact_id, inbox_id, first_key, first_seen_at, source_seq
    from {{ this }}
    where contact_id in (select contact_id from messages)
    {% endif %}
),

final as (
    select
        contact_id,
        arg_min(inbox_id, first_key) as inbox_id,
        min(first_key) as first_key,
        min(first_seen_at) as first_seen_at,
        max(source_seq) as source_seq
    from candidates
    group by contact_id
)

select * from final
