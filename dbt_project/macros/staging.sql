{#- The feed rows of one event type that this staging model has not stored yet, each event once.

    Staging models of the busiest event types are append-only: a run reads only events with a
    higher seq than any stored and skips event ids already stored, so a redelivery is counted
    once and readers never re-parse the whole feed. Called inside a staging model only (the one
    layer where source() appears). -#}
{% macro new_inbox_events(event_type) %}
    select * from {{ source('inbox', 'inbox_events') }}
    where event_type = '{{ event_type }}'
    {% if is_incremental() %}
        and seq > (select coalesce(max(seq), -1) from {{ this }})
        and event_id not in (select event_id from {{ this }})
    {% endif %}
    -- a redelivered event keeps its first committed copy
    qualify row_number() over (partition by event_id order by seq) = 1
{% endmacro %}
