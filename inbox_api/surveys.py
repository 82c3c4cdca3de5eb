"""CSAT (and optional NPS) surveys: sent on resolve, answers recorded against the closed cycle.

- On resolve, inside the 24-hour window, the CSAT question goes out as an interactive list
  (rows `csat_1`..`csat_5`: WhatsApp reply buttons stop at three). Outside the window it goes
  out as the approved template named in `surveys.csat_template`; with neither, nothing is sent
  or recorded and the reason is logged.
- The answer, tapped (`csat_4`) or typed ("4"), is recorded as `survey_answer` with the
  survey's id, so it belongs to the cycle that was resolved. Decision: a message that is a valid
  answer to the conversation's latest unanswered survey (within `answer_window_hours`) is
  claimed by the survey and does NOT open a new care cycle: it answers a question we asked, it
  is not a new request. Anything else (a "thanks", a question, an out-of-range number) opens a
  new cycle as METRICS.md section 2 says.
- With `surveys.nps`, the NPS question (0-10, typed) follows the CSAT answer.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

import orjson

from inbox_api.channels import template_message
from inbox_api.domain import CUSTOMER_SERVICE_WINDOW, SYSTEM, Inbox
from inbox_api.store.state import Conversation
from inbox_api.store.writer import Tx
from inbox_api.whatsapp.parse import InboundMessage

log = logging.getLogger(__name__)
SCORES = {"csat": (1, 5), "nps": (0, 10)}
_TYPED = re.compile(r"^\s*(\d{1,2})\s*[.!]?\s*$")


def survey_id_for(conversation: Conversation, kind: str) -> str:
    return f"survey:{conversation.conversation_id}:{conversation.cycle_number}:{kind}"


def parse_score(message: InboundMessage, kind: str) -> int | None:
    """The score a message gives, or None when it is not an answer to a `kind` survey."""
    low, high = SCORES[kind]
    score: int | None = None
    if message.interactive_id:
        prefix = f"{kind}_"
        rest = message.interactive_id.removeprefix(prefix)
        if rest != message.interactive_id and rest.isdigit():
            score = int(rest)
    elif message.body:
        match = _TYPED.match(message.body)
        score = int(match.group(1)) if match else None
    return score if score is not None and low <= score <= high else None


class Surveys:
    def __init__(self, inbox: Inbox, sender) -> None:
        self.inbox = inbox
        self.sender = sender
        self.config = inbox.config.surveys

    def install(self) -> None:
        self.inbox.on_resolved.append(self.on_resolved)
        self.inbox.claim_inbound.append(self.claims)
        self.inbox.on_inbound.append(self.on_inbound)

    # --- sending --------------------------------------------------------------------------
    def on_resolved(self, tx: Tx, conversation: Conversation) -> None:
        if not self.config.csat or conversation.cycle_number == 0:
            return
        survey_id = survey_id_for(conversation, "csat")
        if tx.has_event(f"sent:{survey_id}"):
            return
        language = self.inbox.config.language
        last = conversation.last_inbound_at
        if last is not None and tx.now - last <= CUSTOMER_SERVICE_WINDOW:
            from inbox_api.routing import interactive_list

            body = self.config.csat_text.get(language)
            rows = [(f"csat_{n}", f"{n} " + "★" * n) for n in range(5, 0, -1)]
            message = interactive_list(body, self.config.csat_button.get(language), rows)
        else:
            template = self.config.csat_template
            if template is None:
                log.info("no CSAT survey for %s: window closed, no template", survey_id)
                return
            rows = tx.con.execute(
                "select body, variable_count, status from templates "
                "where name = ? and language = ?",
                [template.name, template.language],
            ).fetchall()
            if not rows or rows[0][2] != "approved" or rows[0][1] != 0:
                log.warning(
                    "no CSAT survey for %s: template %s (%s) is missing, not approved or "
                    "takes variables",
                    survey_id,
                    template.name,
                    template.language,
                )
                return
            body = rows[0][0]
            message = template_message(template.name, template.language, [])
        self._send(tx, conversation, "csat", survey_id, body, message)

    def _send(
        self, tx: Tx, conversation: Conversation, kind: str, survey_id: str, body: str, message
    ) -> None:
        conversation_id = conversation.conversation_id

        def sent(tx: Tx, message_id: str) -> None:
            current = tx.conversation(conversation_id)
            tx.event(
                "survey_sent",
                event_id=f"sent:{survey_id}",
                payload={"survey_id": survey_id, "kind": kind, "message_id": message_id},
                actor_kind="automation",
                inbox_id=current.inbox_id,
                conversation_id=conversation_id,
                contact_id=current.contact_id,
            )

        self.sender.schedule(
            tx, lambda: self.sender.send_text(conversation_id, body, "survey", message, sent)
        )

    # --- answers --------------------------------------------------------------------------
    def pending(self, tx: Tx, conversation: Conversation) -> tuple[str, str] | None:
        """(survey_id, kind) of the latest unanswered survey of the resolved cycle, if any."""
        rows = tx.con.execute(
            "select payload, occurred_at from events where conversation_id = ? "
            "and event_type = 'survey_sent' order by seq desc limit 1",
            [conversation.conversation_id],
        ).fetchall()
        if not rows:
            return None
        payload, sent_at = orjson.loads(rows[0][0]), rows[0][1]
        survey_id, kind = payload["survey_id"], payload["kind"]
        if survey_id != survey_id_for(conversation, kind):
            return None  # a survey of an older cycle
        if tx.now - sent_at > dt.timedelta(hours=self.config.answer_window_hours):
            return None
        if tx.has_event(f"answer:{survey_id}"):
            return None
        return survey_id, kind

    def claims(self, tx: Tx, conversation: Conversation, message: InboundMessage) -> bool:
        pending = self.pending(tx, conversation)
        return pending is not None and parse_score(message, pending[1]) is not None

    def on_inbound(self, tx: Tx, conversation: Conversation, message: InboundMessage) -> None:
        if conversation.status != "resolved":
            return
        pending = self.pending(tx, conversation)
        if pending is None:
            return
        survey_id, kind = pending
        score = parse_score(message, kind)
        if score is None:
            return
        self.inbox.record_survey_answer(
            tx,
            SYSTEM,
            conversation,
            kind,
            score,
            survey_id=survey_id,
            actor_kind="customer",
            occurred_at=message.occurred_at,
        )
        if kind == "csat" and self.config.nps:
            nps_id = survey_id_for(conversation, "nps")
            if not tx.has_event(f"sent:{nps_id}"):
                body = self.config.nps_text.get(self.inbox.config.language)
                self._send(tx, conversation, "nps", nps_id, body, None)
