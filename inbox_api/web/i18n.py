"""Interface strings in Spanish and English; the config language is the default."""

from __future__ import annotations

LANGUAGES = ("es", "en")

STRINGS: dict[str, tuple[str, str]] = {
    "title": ("Bandeja", "Bandeja"),
    "sign_in": ("Entrar", "Sign in"),
    "sign_out": ("Salir", "Sign out"),
    "token": ("Token de acceso", "Access token"),
    "token_help": (
        "Pega el token que te dio tu administrador.",
        "Paste the token your administrator gave you.",
    ),
    "bad_token": ("Token inválido o revocado.", "Invalid or revoked token."),
    "my_queue": ("Esperando mi respuesta", "Waiting for my reply"),
    "team_queue": ("Cola de mis equipos", "My teams' queue"),
    "my_other": ("Mis otras conversaciones abiertas", "My other open conversations"),
    "empty": ("Nada por aquí.", "Nothing here."),
    "waiting": ("esperando", "waiting"),
    "deadline": ("vence", "due"),
    "overdue": ("vencida", "overdue"),
    "live": ("Cola en vivo", "Live queue"),
    "alerts": ("Alertas recientes", "Recent alerts"),
    "due_soon": ("Vencen en 5 min", "Due within 5 min"),
    "breaches": ("Incumplidas", "Breached"),
    "open": ("Abiertas", "Open"),
    "unattended": ("Sin atender", "Unattended"),
    "pending": ("Pendientes", "Pending"),
    "snoozed": ("Pospuestas", "Snoozed"),
    "agent": ("Agente", "Agent"),
    "team": ("Equipo", "Team"),
    "unassigned": ("sin asignar", "unassigned"),
    "back": ("← Cola", "← Queue"),
    "reply": ("Responder", "Reply"),
    "send": ("Enviar", "Send"),
    "quick_reply": ("Respuesta rápida", "Quick reply"),
    "template": ("Plantilla aprobada", "Approved template"),
    "variables": ("Variables (una por línea)", "Variables (one per line)"),
    "send_template": ("Enviar plantilla", "Send template"),
    "window_closed": (
        "La ventana de 24 h está cerrada: solo puedes enviar una plantilla aprobada.",
        "The 24-hour window is closed: only an approved template can be sent.",
    ),
    "note": ("Nota interna", "Internal note"),
    "add_note": ("Guardar nota", "Save note"),
    "tags": ("Etiquetas", "Tags"),
    "add_tag": ("Añadir", "Add"),
    "lead": ("Marcar como lead", "Mark as lead"),
    "is_lead": ("Es lead", "Is a lead"),
    "conversion": ("Registrar venta/cita", "Record sale/appointment"),
    "sale": ("Venta", "Sale"),
    "appointment": ("Cita", "Appointment"),
    "amount": ("Monto", "Amount"),
    "transfer": ("Transferir", "Transfer"),
    "to_team": ("A la cola del equipo", "To the team queue"),
    "to_agent": ("A un agente", "To an agent"),
    "take": ("Tomarla", "Take it"),
    "resolve": ("Resolver", "Resolve"),
    "reopen": ("Reabrir", "Reopen"),
    "status": ("Estado", "Status"),
    "topic": ("Tema", "Topic"),
    "done": ("Hecho.", "Done."),
    "customer": ("Cliente", "Customer"),
    "automation": ("Automático", "Automated"),
    "you": ("Tú", "You"),
    "actions": ("Acciones", "Actions"),
    "thread": ("Conversación", "Thread"),
    "none": ("—", "—"),
    "refresh": ("Actualizar", "Refresh"),
    "escalation": ("Escalamiento", "Escalation"),
    "level_alert": ("alerta", "alert"),
    "level_reassign": ("reasignada", "reassigned"),
}


def translator(language: str):
    index = 1 if language == "en" else 0

    def t(key: str) -> str:
        pair = STRINGS.get(key)
        return pair[index] if pair else key

    return t
