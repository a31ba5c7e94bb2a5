"""Device, screen, browser and OS from screen_width and the User-Agent."""

import pytest
from ingest_user_agents import (
    ANDROID_WEBVIEW,
    BRAVE_WINDOWS,
    CHROME_ANDROID,
    CHROME_ANDROID_TABLET,
    CHROME_IOS,
    CHROME_LINUX,
    CHROME_MAC,
    CHROME_WINDOWS,
    CHROMEOS,
    CUBOT_PHONE,
    DUCKDUCKGO_ANDROID,
    EDGE_ANDROID,
    EDGE_IOS,
    EDGE_WINDOWS,
    FACEBOOK_IOS,
    FIREFOX_ANDROID,
    FIREFOX_ANDROID_TABLET,
    FIREFOX_IOS,
    FIREFOX_MAC,
    FIREFOX_UBUNTU,
    FIREFOX_WINDOWS,
    IE11,
    INSTAGRAM_ANDROID,
    IOS_WEBVIEW,
    OPERA_ANDROID,
    OPERA_WINDOWS,
    REAL_BROWSERS,
    SAFARI_IPAD,
    SAFARI_IPHONE,
    SAFARI_MAC,
    SAMSUNG_INTERNET,
    UC_ANDROID,
    VIVALDI_WINDOWS,
    YANDEX_ANDROID,
)

from clickport.ingest import technology
from clickport.ingest.technology import Technology, classify_technology, screen_class


@pytest.mark.parametrize(
    ("user_agent", "device", "browser", "browser_version", "os", "os_version"),
    [
        (CHROME_WINDOWS, "Desktop", "Chrome", "131", "Windows", "10"),
        (CHROME_MAC, "Desktop", "Chrome", "131", "macOS", "10"),
        (CHROME_LINUX, "Desktop", "Chrome", "131", "Linux", None),
        (CHROME_ANDROID, "Mobile", "Chrome", "131", "Android", "10"),
        (CHROME_ANDROID_TABLET, "Tablet", "Chrome", "131", "Android", "13"),
        (CHROME_IOS, "Mobile", "Chrome", "131", "iOS", "17"),
        (CHROMEOS, "Desktop", "Chrome", "131", "ChromeOS", "14541"),
        (FIREFOX_WINDOWS, "Desktop", "Firefox", "133", "Windows", "10"),
        (FIREFOX_MAC, "Desktop", "Firefox", "133", "macOS", "10"),
        (FIREFOX_UBUNTU, "Desktop", "Firefox", "133", "Linux", None),
        (FIREFOX_ANDROID, "Mobile", "Firefox", "133", "Android", "14"),
        (FIREFOX_ANDROID_TABLET, "Tablet", "Firefox", "133", "Android", "14"),
        (FIREFOX_IOS, "Mobile", "Firefox", "133", "iOS", "17"),
        (SAFARI_MAC, "Desktop", "Safari", "17", "macOS", "10"),
        (SAFARI_IPHONE, "Mobile", "Safari", "18", "iOS", "18"),
        (SAFARI_IPAD, "Tablet", "Safari", "17", "iOS", "17"),
        (IOS_WEBVIEW, "Mobile", "Safari WebView", None, "iOS", "17"),
        (ANDROID_WEBVIEW, "Mobile", "Chrome WebView", "131", "Android", "14"),
        (FACEBOOK_IOS, "Mobile", "Facebook", "450", "iOS", "17"),
        (INSTAGRAM_ANDROID, "Mobile", "Instagram", "355", "Android", "13"),
        (EDGE_WINDOWS, "Desktop", "Edge", "131", "Windows", "10"),
        (EDGE_ANDROID, "Mobile", "Edge", "131", "Android", "14"),
        (EDGE_IOS, "Mobile", "Edge", "131", "iOS", "18"),
        (OPERA_WINDOWS, "Desktop", "Opera", "116", "Windows", "10"),
        (OPERA_ANDROID, "Mobile", "Opera", "86", "Android", "10"),
        (SAMSUNG_INTERNET, "Mobile", "Samsung Internet", "25", "Android", "14"),
        (BRAVE_WINDOWS, "Desktop", "Brave", "131", "Windows", "10"),
        (VIVALDI_WINDOWS, "Desktop", "Vivaldi", "7", "Windows", "10"),
        (YANDEX_ANDROID, "Mobile", "Yandex Browser", "24", "Android", "10"),
        (UC_ANDROID, "Mobile", "UC Browser", "13", "Android", "10"),
        (DUCKDUCKGO_ANDROID, "Mobile", "DuckDuckGo", "5", "Android", "14"),
        (CUBOT_PHONE, "Mobile", "Chrome", "131", "Android", "10"),
        (IE11, "Desktop", "Internet Explorer", "11", "Windows", "7"),
    ],
)
def test_user_agent_gives_normalised_names_and_major_versions(user_agent, device, browser, browser_version, os, os_version):
    assert classify_technology(user_agent, None) == Technology(
        device=device,
        screen=None,
        browser=browser,
        browser_version=browser_version,
        os=os,
        os_version=os_version,
    )


def test_real_browser_table_is_fully_covered_here():
    # Every real browser of the shared table has a name and an OS.
    for user_agent in REAL_BROWSERS:
        result = classify_technology(user_agent, None)
        assert result.browser and result.os, user_agent


@pytest.mark.parametrize(
    ("width", "expected"),
    [(None, None), (0, None), (-5, None), (1, "Mobile"), (375, "Mobile"), (575, "Mobile"), (576, "Tablet"), (768, "Tablet"), (991, "Tablet"), (992, "Desktop"), (1920, "Desktop"), (20000, "Desktop")],
)
def test_screen_class_boundaries(width, expected):
    assert screen_class(width) == expected


@pytest.mark.parametrize(
    ("user_agent", "width", "device", "screen"),
    [
        (CHROME_WINDOWS, 375, "Mobile", "Mobile"),
        (CHROME_WINDOWS, 800, "Tablet", "Tablet"),
        (SAFARI_IPHONE, 1280, "Desktop", "Desktop"),
        (SAFARI_IPHONE, 0, "Mobile", None),
        (SAFARI_IPHONE, None, "Mobile", None),
        (SAFARI_IPAD, None, "Tablet", None),
        (CHROME_MAC, None, "Desktop", None),
    ],
)
def test_device_follows_screen_width_when_sent_else_the_user_agent(user_agent, width, device, screen):
    result = classify_technology(user_agent, width)
    assert (result.device, result.screen) == (device, screen)


@pytest.mark.parametrize("user_agent", ["", "curl/8.5.0", "something odd"])
def test_unknown_user_agents_give_no_browser_or_os(user_agent):
    result = classify_technology(user_agent, None)
    assert result.os is None and result.os_version is None
    assert result.device == "Desktop"
    if user_agent != "curl/8.5.0":
        assert result.browser is None and result.browser_version is None


def test_families_missing_from_the_table_pass_through():
    huawei = "Mozilla/5.0 (Linux; Android 10; VOG-L29; HMSCore 6.13.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.5735.196 HuaweiBrowser/14.0.5.303 Mobile Safari/537.36"
    result = classify_technology(huawei, None)
    assert result.browser not in (None, "Other")
    assert result.os == "Android"


def test_user_agent_parsing_is_memoized():
    technology._user_agent_facts.cache_clear()
    classify_technology(CHROME_WINDOWS, 1200)
    classify_technology(CHROME_WINDOWS, 400)
    info = technology._user_agent_facts.cache_info()
    assert (info.hits, info.misses) == (1, 1)
    assert info.maxsize is not None
