"""The shape of the simulated operation: rates and probabilities, in one place.

The business config (config/bandeja.yaml) says who works where and when the business is open;
this profile says how customers and agents behave. Tests read the same bounds they check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Relative inbound volume per local hour on a working day: morning and afternoon peaks, a lunch
# dip, a tail after closing, almost nothing at night.
WEEKDAY_HOURLY = (
    0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.5, 5.0, 8.0, 9.0,
    8.0, 6.0, 5.5, 7.0, 8.0, 6.5, 3.5, 2.5, 2.0, 1.5, 1.0, 0.6,
)  # fmt: skip
# Weekends and holidays: a late, flat day.
RESTDAY_HOURLY = (
    0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.5, 2.5, 3.0,
    3.0, 2.5, 2.0, 2.0, 2.0, 2.0, 1.8, 1.5, 1.2, 1.0, 0.7, 0.4,
)  # fmt: skip
# Volume per weekday (Mon..Sun) relative to an average working day.
WEEKDAY_FACTOR = (1.15, 1.05, 1.0, 1.0, 0.9, 0.22, 0.1)
HOLIDAY_FACTOR = 0.15


@dataclass(frozen=True)
class TopicProfile:
    weight: float
    turns: tuple[int, int]  # agent replies per cycle, inclusive
    handle_median_seconds: float  # agent's reply delay after the first reply
    bodies: tuple[str, ...]
    tags: tuple[str, ...]
    bot_answer: str


TOPICS: dict[str, TopicProfile] = {
    "sales_lead": TopicProfile(
        0.35,
        (2, 6),
        80.0,
        (
            "Hola, ¿qué precio tiene el modelo X200?",
            "Quiero una cotización para 10 piezas",
            "¿Tienen disponible en color negro?",
            "¿Hacen envíos a Monterrey?",
        ),
        ("cotización", "mayoreo", "vip"),
        "Nuestro catálogo con precios está en https://ejemplo.mx/catalogo",
    ),
    "after_sales": TopicProfile(
        0.30,
        (3, 8),
        130.0,
        (
            "Mi equipo dejó de funcionar, ¿aplica la garantía?",
            "Necesito ayuda con la instalación",
            "Llegó con una pieza rota",
            "No enciende desde ayer",
        ),
        ("garantía", "falla", "urgente"),
        "Puedes consultar la guía de instalación en https://ejemplo.mx/ayuda",
    ),
    "billing": TopicProfile(
        0.15,
        (1, 4),
        110.0,
        (
            "Necesito mi factura del pedido",
            "Me cobraron dos veces",
            "¿Cuál es la cuenta para transferir el pago?",
        ),
        ("factura", "cobro-duplicado"),
        "Tu factura se envió a tu correo registrado. ¿Algo más?",
    ),
    "logistics": TopicProfile(
        0.20,
        (1, 5),
        95.0,
        (
            "¿Dónde está mi pedido?",
            "No ha llegado mi entrega",
            "Quiero cambiar la dirección de envío",
        ),
        ("retraso", "cambio-dirección"),
        "Tu pedido va en camino; la guía de rastreo está en https://ejemplo.mx/rastreo",
    ),
}

MENU_PAYLOADS = {
    "sales_lead": "menu_sales",
    "after_sales": "menu_support",
    "billing": "menu_billing",
    "logistics": "menu_logistics",
}

# Shift patterns, (weekdays, start hour, end hour) in local time; agents take them in turn, so
# weekdays are covered 08:00-21:00 and a couple of agents work Saturday mornings.
_WEEK = (0, 1, 2, 3, 4)
SHIFTS: tuple[tuple[tuple[tuple[int, ...], int, int], ...], ...] = (
    ((_WEEK, 9, 18),),
    ((_WEEK, 8, 17),),
    ((_WEEK, 10, 19), ((5,), 10, 14)),
    ((_WEEK, 12, 21),),
    ((_WEEK, 9, 18), ((5,), 10, 14)),
    ((_WEEK, 8, 16),),
)


@dataclass(frozen=True)
class Profile:
    """Behaviour knobs; defaults describe a mid-size Mexican retailer."""

    cycles_per_agent_day: float = 36.0
    returning_contact_share: float = 0.08
    bot_share: float = 0.55
    bot_resolve_share: float = 0.12
    bot_abandon_share: float = 0.06
    customer_burst_max: int = 4
    customer_silence_probability: float = 0.04
    auto_resolve_probability: float = 0.05
    customer_close_probability: float = 0.03
    reopen_probability: float = 0.05
    thanks_probability: float = 0.07
    thanks_answered_probability: float = 0.75
    # The reopen rate a generated week must land in (tests check it against this).
    reopen_rate_bounds: tuple[float, float] = (0.06, 0.25)
    after_hours_share_bounds: tuple[float, float] = (0.12, 0.40)
    first_reply_median_seconds: float = 70.0
    slow_period_probability: float = 0.25
    slow_factor: tuple[float, float] = (6.0, 14.0)
    agent_speed: tuple[float, float] = (0.6, 1.8)
    note_probability: float = 0.15
    tag_probability: float = 0.35
    transfer_probability: float = 0.04
    pending_probability: float = 0.1
    csat_response_rate: float = 0.33
    nps_probability: float = 0.05
    lead_probability: float = 0.55
    conversion_probability: float = 0.3
    conversion_median_days: float = 4.0
    conversion_max_days: int = 25
    inactivity_seconds: float = 24 * 3600
    csat_scores: tuple[float, ...] = field(default=(0.10, 0.07, 0.12, 0.25, 0.46))
