"""Share pages: an HTML page per reel (its link unfurls with the video and plays inline on a
phone) and a page per daily channel listing its reels, one per screen."""

from .pages import ReelCard, channel_page, csp, reel_page
from .writer import PAGE, PAGE_TYPE, channel_key, reel_card, write_channel

__all__ = [
    "PAGE",
    "PAGE_TYPE",
    "ReelCard",
    "channel_key",
    "channel_page",
    "csp",
    "reel_card",
    "reel_page",
    "write_channel",
]
