{{ config(materialized='ephemeral') }}
{#- Every feed event reduced to its keys: what the incremental cycle models need to find the
    conversations and contacts touched since the seq they were last built at. Ephemeral, inlined
    where it is read: `seq` grows with the feed, so a `seq >` filter reads only the newest row
    groups, and a run pays for no view node (~0.25 s of dbt per node). -#}
select
    seq,
    event_type,
    conversation_id,
    contact_id
from {{ source('inbox', 'inbox_events') }}
