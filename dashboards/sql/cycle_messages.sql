-- The messages of one cycle in order.
select
    message_id, sent_at, direction, sender_kind, agent_id, message_type, automation_kind,
    is_template, is_human_reply, delivered_at, read_at, failed_at, error_code
from fct_messages
where cycle_id = $cycle_id
order by sent_at, message_id
