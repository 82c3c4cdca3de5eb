"""The business configuration file (YAML): calendar, SLA, teams, agents, topics.

Loaded and validated by every component that needs it (inbox API, pipeline, simulator), so one
file describes the operation. Errors name the file and the offending key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ingest.calendar import WEEKDAYS, BusinessCalendar, CalendarConfig, _parse_interval


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key."""


class SlaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business_target_seconds: int = Field(default=300, gt=0)
    offhours_target_seconds: int = Field(default=1800, gt=0)
    clock: Literal["calendar", "business"] = "calendar"
    alert_after_seconds: int = Field(default=600, gt=0)
    reassign_after_seconds: int = Field(default=1200, gt=0)

    @model_validator(mode="after")
    def _reassign_after_alert(self) -> SlaConfig:
        if self.reassign_after_seconds <= self.alert_after_seconds:
            raise ValueError("sla.reassign_after_seconds must be greater than alert_after_seconds")
        return self


class TargetsConfig(BaseModel):
    """Service targets drawn on dashboards and the weekly report (the FRT target is `sla`)."""

    model_config = ConfigDict(extra="forbid")

    sla_compliance_rate: float = Field(default=0.90, ge=0, le=1)
    csat_rate: float = Field(default=0.85, ge=0, le=1)


class TeamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str


class LocalizedText(BaseModel):
    """A customer-facing text in both supported languages."""

    model_config = ConfigDict(extra="forbid")

    es: str = Field(min_length=1, max_length=1024)
    en: str = Field(min_length=1, max_length=1024)

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.es


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    teams: list[str]
    skills: list[str] = Field(default_factory=list)
    capacity: int = Field(default=8, gt=0)
    role: Literal["agent", "supervisor", "admin", "analyst"] = "agent"
    # Local weekly intervals like calendar.hours; None = the business hours. Holidays close them.
    shifts: dict[str, list[str]] | None = None
    # False takes the agent out of automatic routing (away, on leave) without deleting them.
    available: bool = True

    @field_validator("shifts")
    @classmethod
    def _valid_shifts(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        for day, intervals in (value or {}).items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use one of {', '.join(WEEKDAYS)}")
            for interval in intervals:
                _parse_interval(interval)
        return value


class TopicConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    team: str
    keywords: list[str] = Field(default_factory=list)
    payloads: list[str] = Field(default_factory=list)
    # The skill an agent needs for this topic; defaults to the owning team's id.
    skill: str | None = None
    # Row title in the first-message menu (WhatsApp allows 24 characters); None = not in the menu.
    title: LocalizedText | None = None

    @property
    def required_skill(self) -> str:
        return self.skill or self.team


class MenuConfig(BaseModel):
    """First-message menu: sent when a new cycle's first message names no topic."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    text: LocalizedText = LocalizedText(
        es="¡Hola! ¿En qué podemos ayudarte? Elige una opción.",
        en="Hi! How can we help? Pick an option.",
    )
    button: LocalizedText = LocalizedText(es="Ver opciones", en="See options")


class OffHoursConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    text: LocalizedText = LocalizedText(
        es="Gracias por escribirnos. Estamos fuera de horario; te responderemos en menos de "
        "30 minutos.",
        en="Thanks for your message. We are outside business hours; we will answer within "
        "30 minutes.",
    )


class AlertWebhookConfig(BaseModel):
    """An outgoing webhook that receives SLA escalations, HMAC-SHA256 signed with `secret`."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://[^\s]+$")
    secret: str = Field(min_length=16)
    levels: list[Literal["alert", "reassign"]] = Field(
        default_factory=lambda: ["alert", "reassign"]
    )


class SurveyTemplateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    language: str = Field(min_length=2)


class SurveyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    csat: bool = True
    nps: bool = False
    csat_text: LocalizedText = LocalizedText(
        es="¿Cómo calificarías la atención que recibiste? (1 = muy mala, 5 = excelente)",
        en="How would you rate the help you got? (1 = very poor, 5 = excellent)",
    )
    csat_button: LocalizedText = LocalizedText(es="Calificar", en="Rate")
    nps_text: LocalizedText = LocalizedText(
        es="Del 0 al 10, ¿qué tan probable es que nos recomiendes? Responde con un número.",
        en="From 0 to 10, how likely are you to recommend us? Reply with a number.",
    )
    # Sent instead of the interactive message when the 24-hour window is closed.
    csat_template: SurveyTemplateConfig | None = None
    # An answer later than this is an ordinary message, not a survey answer.
    answer_window_hours: int = Field(default=72, gt=0)


class BusinessConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    targets: TargetsConfig = Field(default_factory=TargetsConfig)
    conversion_window_days: int = Field(default=30, gt=0)
    low_confidence_n: int = Field(default=10, ge=1)
    language: Literal["es", "en"] = "es"
    teams: list[TeamConfig] = Field(default_factory=list)
    agents: list[AgentConfig] = Field(default_factory=list)
    topics: list[TopicConfig] = Field(default_factory=list)
    default_team: str | None = None
    menu: MenuConfig = Field(default_factory=MenuConfig)
    off_hours: OffHoursConfig = Field(default_factory=OffHoursConfig)
    alert_webhooks: list[AlertWebhookConfig] = Field(default_factory=list)
    surveys: SurveyConfig = Field(default_factory=SurveyConfig)

    @model_validator(mode="after")
    def _references_exist(self) -> BusinessConfig:
        team_ids = {team.id for team in self.teams}
        for agent in self.agents:
            for team in agent.teams:
                if team not in team_ids:
                    raise ValueError(f"agent {agent.id!r} names unknown team {team!r}")
        agent_ids = [agent.id for agent in self.agents]
        if len(agent_ids) != len(set(agent_ids)):
            raise ValueError("agent ids must be unique")
        payload_owner: dict[str, str] = {}
        for topic in self.topics:
            if topic.team not in team_ids:
                raise ValueError(f"topic {topic.id!r} names unknown team {topic.team!r}")
            for payload in topic.payloads:
                if payload in payload_owner:
                    raise ValueError(
                        f"payload {payload!r} belongs to topics {payload_owner[payload]!r} "
                        f"and {topic.id!r}"
                    )
                payload_owner[payload] = topic.id
        if self.menu.enabled and not any(t.title and t.payloads for t in self.topics):
            raise ValueError("menu.enabled needs at least one topic with a title and a payload")
        if self.default_team and self.default_team not in team_ids:
            raise ValueError(f"default_team {self.default_team!r} is not a team")
        return self

    def business_calendar(self) -> BusinessCalendar:
        return BusinessCalendar(self.calendar)


def load_config(path: Path) -> BusinessConfig:
    """Read and validate the YAML file; a missing file gives the built-in defaults."""
    if not path.exists():
        raise ConfigError(f"{path}: config file not found (set BANDEJA_CONFIG_FILE)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    try:
        return BusinessConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc
