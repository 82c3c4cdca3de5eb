"""The business configuration file (YAML): calendar, SLA, teams, agents, topics.

Loaded and validated by every component that needs it (inbox API, pipeline, simulator), so one
file describes the operation. Errors name the file and the offending key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ingest.calendar import BusinessCalendar, CalendarConfig


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


class TeamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str


class AgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    teams: list[str]
    skills: list[str] = Field(default_factory=list)
    capacity: int = Field(default=8, gt=0)
    role: Literal["agent", "supervisor", "admin", "analyst"] = "agent"


class TopicConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    team: str
    keywords: list[str] = Field(default_factory=list)
    payloads: list[str] = Field(default_factory=list)


class BusinessConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    conversion_window_days: int = Field(default=30, gt=0)
    low_confidence_n: int = Field(default=10, ge=1)
    language: Literal["es", "en"] = "es"
    teams: list[TeamConfig] = Field(default_factory=list)
    agents: list[AgentConfig] = Field(default_factory=list)
    topics: list[TopicConfig] = Field(default_factory=list)
    default_team: str | None = None

    @model_validator(mode="after")
    def _references_exist(self) -> BusinessConfig:
        team_ids = {team.id for team in self.teams}
        for agent in self.agents:
            for team in agent.teams:
                if team not in team_ids:
                    raise ValueError(f"agent {agent.id!r} names unknown team {team!r}")
        for topic in self.topics:
            if topic.team not in team_ids:
                raise ValueError(f"topic {topic.id!r} names unknown team {topic.team!r}")
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
