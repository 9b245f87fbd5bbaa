"""A fake Discord (REST API v10 + gateway) for discord.py's real HTTP and websocket layers;
see ``server``."""

from .interactions import DcInteraction
from .messages import DcAttachment, DcMessage
from .pointing import connected, pointed_at
from .server import FakeDiscord
from .wire import Call, DcChannel, DcGuild, DcRole, DcUser, Upload

__all__ = [
    "Call",
    "DcAttachment",
    "DcChannel",
    "DcGuild",
    "DcInteraction",
    "DcMessage",
    "DcRole",
    "DcUser",
    "FakeDiscord",
    "Upload",
    "connected",
    "pointed_at",
]
