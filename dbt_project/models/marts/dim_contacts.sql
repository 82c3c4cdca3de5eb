with cycle_counts as (
    select contact_id, count(*) as cycle_count
    from {{ ref('int_cycles_opened') }}
    group by contact_id
),

contacts as (
    -- the current state of each contact
    select contact_id, inbox_id
    from {{ ref('stg_inbox__events') }}
    where event_type = 'contact' and contact_id is not null
    qualify row_number() over (partition by contact_id order by occurred_at desc, seq desc) = 1
),

first_seen as (
    select contact_id, inbox_id, first_seen_at from {{ ref('int_contacts_first_seen') }}
),

all_contacts as (
    select contact_id from first_seen
    union
    select contact_id from contacts
),

final as (
    select
        md5(all_contacts.contact_id) as contact_id,
        coalesce(first_seen.inbox_id, contacts.inbox_id) as inbox_id,
        first_seen.first_seen_at,
        coalesce(cycle_counts.cycle_count, 0) as cycle_count
    from all_contacts
    left join first_seen on all_contacts.contact_id = first_seen.contact_id
    left join contacts on all_contacts.contact_id = contacts.contact_id
    left join cycle_counts on all_contacts.contact_id = cycle_counts.contact_id
)

select * from final
