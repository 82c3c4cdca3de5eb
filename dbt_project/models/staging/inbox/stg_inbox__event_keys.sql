{#- Every feed event reduced to its keys: what the incremental cycle models need to find the
    conversations and contacts touched since the seq they were last built at. A view: `seq` grows
    with the table, so a `seq >` filter reads only the newest row groups. -#}
select
    seq,
    event_type,
    conversation_id,
    contact_id
from {{ source('inbox', 'inbox_events') }}
