"""The default channel of a session: an ordered registry of rules after GA4's default channel grouping.

Rules run in order and the first that applies names the channel. Differences from GA4, on purpose:

- ``AI Search`` (ChatGPT, Perplexity, Claude, Gemini, Copilot, …) is a channel of its own.
- A webmail referrer (Gmail, Outlook, …) counts as ``Email``.
- GA4's ``Paid Other``, ``Audio``, ``Mobile Push Notifications`` and ``Unassigned`` do not exist here:
  what no rule claims is ``Referral`` when there is an external referrer or a ``utm_source``,
  else ``Direct``.
- Ad click ids count as a paid signal for the kind of network that adds them: the search ad
  networks' ids (``gclid``, ``gbraid``, ``wbraid``, ``dclid``, ``msclkid``, ``yclid``) for search,
  video and shopping sources, the social networks' ad ids (``ttclid``, ``twclid``, ``li_fat_id``,
  ``sccid``, ``epik``, ``rdt_cid``) for social sources only. A search ad id with no source at all
  (no referrer, no utm_source) is a search ad whose referrer was withheld: ``Paid Search``.
  ``fbclid`` and ``igshid`` are never paid signals: Meta adds them to organic links as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

CHANNELS: tuple[str, ...] = (
    "Direct",
    "Organic Search",
    "Paid Search",
    "Organic Social",
    "Paid Social",
    "Email",
    "Affiliates",
    "Referral",
    "Display",
    "Organic Video",
    "Paid Video",
    "Organic Shopping",
    "Paid Shopping",
    "AI Search",
    "SMS",
    "Cross-network",
)

SEARCH_AD_CLICK_IDS = frozenset({"gclid", "gbraid", "wbraid", "dclid", "msclkid", "yclid"})
SOCIAL_AD_CLICK_IDS = frozenset({"ttclid", "twclid", "li_fat_id", "sccid", "epik", "rdt_cid"})
AD_CLICK_IDS = SEARCH_AD_CLICK_IDS | SOCIAL_AD_CLICK_IDS
# NOTE: recognised but never a paid signal (added to organic posts' links too).
ORGANIC_CLICK_IDS = frozenset({"fbclid", "igshid"})
CLICK_IDS = AD_CLICK_IDS | ORGANIC_CLICK_IDS

_PAID_MEDIUM = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
_SHOPPING_CAMPAIGN = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")
_DISPLAY_MEDIA = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
_SOCIAL_MEDIA = frozenset({"social", "social-network", "social-media", "sm", "social network", "social media"})
_EMAIL_WORDS = frozenset({"email", "e-mail", "e_mail", "e mail", "newsletter"})
_REFERRAL_MEDIA = frozenset({"referral", "app", "link"})
_AFFILIATE_MEDIA = frozenset({"affiliate", "affiliates"})


def click_ids_in(query: Mapping[str, str]) -> frozenset[str]:
    """The known click ids present (with a value) in a URL's query, lowercased."""
    return frozenset(name.lower() for name, value in query.items() if value and name.lower() in CLICK_IDS)


@dataclass(frozen=True)
class ChannelSignals:
    """What the rules look at, normalised once (lowercased, trimmed, empty → "")."""

    source: str
    category: str
    has_external_referrer: bool
    utm_source: str
    medium: str
    campaign: str
    click_ids: frozenset[str]

    @property
    def paid(self) -> bool:
        """A paid-like medium, or an ad click id of the kind of network the source is."""
        if _PAID_MEDIUM.match(self.medium):
            return True
        ad_ids = SOCIAL_AD_CLICK_IDS if self.category == "social" else SEARCH_AD_CLICK_IDS
        return bool(self.click_ids & ad_ids)

    @property
    def shopping_campaign(self) -> bool:
        return bool(_SHOPPING_CAMPAIGN.match(self.campaign))

    @property
    def nothing(self) -> bool:
        return not (
            self.has_external_referrer
            or self.utm_source
            or self.medium
            or self.campaign
            or self.click_ids & AD_CLICK_IDS
        )


@dataclass(frozen=True)
class ChannelRule:
    channel: str
    applies: Callable[[ChannelSignals], bool]


def _no_source_search_ad(s: ChannelSignals) -> bool:
    return not s.source and not s.has_external_referrer and bool(s.click_ids & SEARCH_AD_CLICK_IDS)


CHANNEL_RULES: tuple[ChannelRule, ...] = (
    ChannelRule("Direct", lambda s: s.nothing),
    ChannelRule("Cross-network", lambda s: "cross-network" in s.campaign),
    ChannelRule("Paid Shopping", lambda s: (s.category == "shopping" or s.shopping_campaign) and s.paid),
    ChannelRule("Paid Search", lambda s: (s.category == "search" and s.paid) or _no_source_search_ad(s)),
    ChannelRule("Paid Social", lambda s: s.category == "social" and s.paid),
    ChannelRule("Paid Video", lambda s: s.category == "video" and s.paid),
    ChannelRule("Display", lambda s: s.medium in _DISPLAY_MEDIA),
    ChannelRule("AI Search", lambda s: s.category == "ai"),
    ChannelRule("Organic Shopping", lambda s: s.category == "shopping" or s.shopping_campaign),
    ChannelRule("Organic Social", lambda s: s.category == "social" or s.medium in _SOCIAL_MEDIA),
    ChannelRule("Organic Video", lambda s: s.category == "video" or "video" in s.medium),
    ChannelRule("Organic Search", lambda s: s.category == "search" or s.medium == "organic"),
    ChannelRule("Referral", lambda s: s.medium in _REFERRAL_MEDIA),
    ChannelRule(
        "Email",
        lambda s: s.category == "email" or s.source in _EMAIL_WORDS or s.utm_source in _EMAIL_WORDS or s.medium in _EMAIL_WORDS,
    ),
    ChannelRule("Affiliates", lambda s: s.medium in _AFFILIATE_MEDIA),
    ChannelRule("SMS", lambda s: "sms" in (s.source, s.utm_source, s.medium)),
    ChannelRule("Referral", lambda s: s.has_external_referrer or bool(s.utm_source)),
)

def _norm(value: str | None) -> str:
    return (value or "").strip().lower()


def classify_channel(
    *,
    source_name: str | None,
    source_category: str | None,
    has_external_referrer: bool,
    utm_source: str | None,
    utm_medium: str | None,
    utm_campaign: str | None,
    click_ids: Collection[str],
) -> str:
    """The session's channel (always one of ``CHANNELS``; ``Direct`` when nothing applies).

    ``source_name``/``source_category`` describe the source the channel reads: the campaign's
    ``utm_source`` when tagged (as GA4 does), else the external referrer.
    """
    signals = ChannelSignals(
        source=_norm(source_name),
        category=_norm(source_category),
        has_external_referrer=has_external_referrer,
        utm_source=_norm(utm_source),
        medium=_norm(utm_medium),
        campaign=_norm(utm_campaign),
        click_ids=frozenset(_norm(c) for c in click_ids),
    )
    for rule in CHANNEL_RULES:
        if rule.applies(signals):
            return rule.channel
    return "Direct"
