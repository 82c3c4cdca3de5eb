{{
    config(
        materialized='incremental',
        unique_key='contact_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ record_watermark() }}"
    )
}}
{#- Incremental by contact: a run rewrites the contacts int_contacts_summarized rewrote after this
    table's watermark (its rewritten rows carry the feed seq of their build). -#}
with contacts as (
    select * from {{ ref('int_contacts_summarized') }}
    {% if is_incremental() %}
    where source_seq > {{ model_watermark() }}
    {% endif %}
),

final as (
    select
        md5(contact_id) as contact_id,
        coalesce(inbox_id, contact_inbox_id) as inbox_id,
        first_seen_at,
        cycle_count
    from contacts
)

select * from final
