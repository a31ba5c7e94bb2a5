"""Device, screen, browser and operating system of an event, from screen_width and the User-Agent.

Names come from one normalised table: mobile variants fold into their browser (``Chrome Mobile``,
``Chrome Mobile iOS`` → ``Chrome``; ``Mobile Safari`` → ``Safari``; ``Firefox iOS`` → ``Firefox``),
while in-app web views keep a name of their own (``Chrome WebView``, ``Safari WebView``,
``Facebook``, ``Instagram``): they are an app, not the visitor's browser. Linux distributions fold
into ``Linux``. A family missing from the table is passed through as the parser names it;
``Other`` (unknown) is None. Versions are the major number only, as a string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from clickport.ingest.useragent import parse_user_agent

MOBILE_BELOW = 576
TABLET_BELOW = 992

BROWSER_NAMES: dict[str, str] = {
    "Chrome": "Chrome",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "HeadlessChrome": "Chrome",
    "Chromium": "Chromium",
    "Chrome Mobile WebView": "Chrome WebView",
    "Safari": "Safari",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari WebView",
    "Firefox": "Firefox",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Firefox Beta": "Firefox",
    "Firefox Alpha": "Firefox",
    "Firefox Focus": "Firefox",
    "Edge": "Edge",
    "Edge Mobile": "Edge",
    "Opera": "Opera",
    "Opera Mobile": "Opera",
    "Opera Mini": "Opera",
    "Opera Touch": "Opera",
    "Opera GX": "Opera",
    "Samsung Internet": "Samsung Internet",
    "Brave": "Brave",
    "Vivaldi": "Vivaldi",
    "Yandex Browser": "Yandex Browser",
    "UC Browser": "UC Browser",
    "DuckDuckGo Mobile": "DuckDuckGo",
    "IE": "Internet Explorer",
    "IE Mobile": "Internet Explorer",
    "Amazon Silk": "Silk",
    "Facebook": "Facebook",
    "Instagram": "Instagram",
}

OS_NAMES: dict[str, str] = {
    "Windows": "Windows",
    "Mac OS X": "macOS",
    "iOS": "iOS",
    "iPadOS": "iOS",
    "Android": "Android",
    "Chrome OS": "ChromeOS",
    "Linux": "Linux",
    "Ubuntu": "Linux",
    "Kubuntu": "Linux",
    "Debian": "Linux",
    "Fedora": "Linux",
    "Red Hat": "Linux",
    "CentOS": "Linux",
    "SUSE": "Linux",
    "openSUSE": "Linux",
    "Arch Linux": "Linux",
    "Linux Mint": "Linux",
    "Mint": "Linux",
    "Gentoo": "Linux",
    "Mandriva": "Linux",
    "Slackware": "Linux",
}

_UNKNOWN = frozenset({"", "Other"})
_ANDROID_MOBILE = re.compile(r"\bMobile\b")
_ANDROID_TABLET = re.compile(r"\bTablet\b")


@dataclass(frozen=True)
class Technology:
    device: str
    """Desktop | Mobile | Tablet: from screen_width when sent and > 0, else from the User-Agent."""
    screen: str | None
    """Desktop | Mobile | Tablet from screen_width alone; None without one (or 0)."""
    browser: str | None
    browser_version: str | None
    os: str | None
    os_version: str | None


@dataclass(frozen=True)
class _UserAgentFacts:
    device: str
    browser: str | None
    browser_version: str | None
    os: str | None
    os_version: str | None


def screen_class(screen_width: int | None) -> str | None:
    """Mobile below 576 px, Tablet below 992 px, else Desktop; None when absent or not positive."""
    if not screen_width or screen_width <= 0:
        return None
    if screen_width < MOBILE_BELOW:
        return "Mobile"
    if screen_width < TABLET_BELOW:
        return "Tablet"
    return "Desktop"


def _name(family: str, table: dict[str, str]) -> str | None:
    if family in _UNKNOWN:
        return None
    return table.get(family, family)


def _major(version: tuple[object, ...]) -> str | None:
    if not version or version[0] in (None, ""):
        return None
    return str(version[0])


@lru_cache(maxsize=4096)
def _user_agent_facts(user_agent: str) -> _UserAgentFacts:
    parsed = parse_user_agent(user_agent)
    is_android = parsed.os.family == "Android"
    if is_android and _ANDROID_TABLET.search(user_agent):
        device = "Tablet"
    elif is_android and _ANDROID_MOBILE.search(user_agent):
        # NOTE: Android phones put "Mobile" in the UA; the library calls some of them tablets.
        device = "Mobile"
    elif parsed.is_tablet:
        device = "Tablet"
    elif parsed.is_mobile:
        device = "Mobile"
    else:
        device = "Desktop"
    browser = _name(parsed.browser.family, BROWSER_NAMES)
    os = _name(parsed.os.family, OS_NAMES)
    return _UserAgentFacts(
        device=device,
        browser=browser,
        browser_version=_major(parsed.browser.version) if browser else None,
        os=os,
        os_version=_major(parsed.os.version) if os else None,
    )


def classify_technology(user_agent: str, screen_width: int | None) -> Technology:
    """The technology dimensions of an event (User-Agent parsing is memoized per string)."""
    facts = _user_agent_facts(user_agent)
    screen = screen_class(screen_width)
    return Technology(
        device=screen or facts.device,
        screen=screen,
        browser=facts.browser,
        browser_version=facts.browser_version,
        os=facts.os,
        os_version=facts.os_version,
    )
