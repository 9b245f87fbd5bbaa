"""Trending topics for the daily run: Wikipedia's most read, Google Trends' daily RSS and an
offline list, chained with fallback (see ``chain``)."""

from .chain import (
    Picked,
    TopicHistory,
    TrendChain,
    build_trend_chain,
    context_of,
    credit,
    normalise_title,
    pick_fresh,
)
from .google_trends import GoogleTrends
from .listfile import ListTrends
from .wikipedia import WikipediaTrends

__all__ = [
    "GoogleTrends",
    "ListTrends",
    "Picked",
    "TopicHistory",
    "TrendChain",
    "WikipediaTrends",
    "build_trend_chain",
    "context_of",
    "credit",
    "normalise_title",
    "pick_fresh",
]
