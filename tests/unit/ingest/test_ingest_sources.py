"""Source attribution: referrer_url, source, channel and utm_* of an event."""

import pytest

from clickport.ingest.sources import SourceAttribution, attribute_source, parse_referrer
from clickport.ingest.urls import split_url

SITE = "example.com"


def attribute(url="https://example.com/pricing", referrer=None, site=SITE, **utm):
    return attribute_source(url=split_url(url), referrer=referrer, site_domain=site, utm=utm)


@pytest.mark.parametrize(
    ("referrer", "source"),
    [
        ("https://www.google.com/", "google"),
        ("https://www.google.de/", "google"),
        ("https://google.de/search?q=x", "google"),
        ("https://www.google.co.uk/", "google"),
        ("https://www.google.com.br/", "google"),
        ("https://www.google.co.jp/", "google"),
        ("https://www.bing.com/search?q=x", "bing"),
        ("https://duckduckgo.com/", "duckduckgo"),
        ("https://html.duckduckgo.com/html/", "duckduckgo"),
        ("https://search.yahoo.com/search?p=x", "yahoo"),
        ("https://de.search.yahoo.com/", "yahoo"),
        ("https://www.ecosia.org/search?q=x", "ecosia"),
        ("https://yandex.ru/search/?text=x", "yandex"),
        ("https://www.baidu.com/s?wd=x", "baidu"),
        ("https://kagi.com/search?q=x", "kagi"),
        ("https://search.brave.com/search?q=x", "brave"),
        ("https://www.startpage.com/", "startpage"),
        ("https://www.qwant.com/", "qwant"),
        ("https://chatgpt.com/", "chatgpt"),
        ("https://chat.openai.com/c/123", "chatgpt"),
        ("https://www.perplexity.ai/search/x", "perplexity"),
        ("https://claude.ai/chat/1", "claude"),
        ("https://gemini.google.com/app", "gemini"),
        ("https://copilot.microsoft.com/", "copilot"),
        ("https://t.co/abc", "twitter"),
        ("https://x.com/someone/status/1", "twitter"),
        ("https://twitter.com/", "twitter"),
        ("https://l.facebook.com/l.php?u=x", "facebook"),
        ("https://m.facebook.com/", "facebook"),
        ("https://www.facebook.com/", "facebook"),
        ("https://lnkd.in/abc", "linkedin"),
        ("https://www.linkedin.com/feed/", "linkedin"),
        ("https://www.reddit.com/r/python/", "reddit"),
        ("https://old.reddit.com/r/python/", "reddit"),
        ("https://news.ycombinator.com/item?id=1", "hackernews"),
        ("https://www.youtube.com/watch?v=x", "youtube"),
        ("https://youtu.be/x", "youtube"),
        ("https://m.youtube.com/", "youtube"),
        ("https://github.com/org/repo", "github"),
        ("https://mail.google.com/mail/u/0/", "gmail"),
        ("https://outlook.live.com/mail/0/", "outlook"),
        ("https://www.instagram.com/", "instagram"),
        ("https://l.instagram.com/", "instagram"),
        ("https://www.amazon.de/dp/x", "amazon"),
        ("android-app://com.google.android.gm/", "gmail"),
        ("android-app://com.google.android.googlequicksearchbox/", "google"),
    ],
)
def test_known_referrers_give_their_name(referrer, source):
    assert attribute(referrer=referrer).source == source


@pytest.mark.parametrize(
    ("referrer", "source"),
    [
        ("https://www.some-blog.org/post", "some-blog.org"),
        ("https://Some-Blog.ORG/", "some-blog.org"),
        ("https://sub.other.net/", "sub.other.net"),
        ("https://docs.google.com/document/d/1", "docs.google.com"),
        ("https://notgoogle.de/", "notgoogle.de"),
        ("https://google.evil.net/", "google.evil.net"),
        ("https://example.org/", "example.org"),
        ("https://example.com.evil.org/", "example.com.evil.org"),
        ("http://[2001:db8::1]:8080/p", "2001:db8::1"),
    ],
)
def test_unknown_external_referrer_gives_its_host_without_www(referrer, source):
    result = attribute(referrer=referrer)
    assert result.source == source
    assert result.channel == "Referral"


@pytest.mark.parametrize(
    ("referrer", "referrer_url"),
    [
        ("https://www.google.de/search?q=secret#frag", "https://www.google.de/search"),
        ("https://www.Some-Blog.org/Post/A?x=1", "https://www.some-blog.org/Post/A"),
        ("https://blog.org", "https://blog.org/"),
        ("https://blog.org?x=1", "https://blog.org/"),
        ("https://user:pw@blog.org:8443/a%20b", "https://blog.org/a%20b"),
        ("HTTP://Blog.org/x", "http://blog.org/x"),
        ("http://[2001:db8::1]:8080/p", "http://[2001:db8::1]/p"),
        ("android-app://com.google.android.gm/", "android-app://com.google.android.gm/"),
    ],
)
def test_referrer_url_keeps_scheme_host_with_www_and_path_only(referrer, referrer_url):
    assert attribute(referrer=referrer).referrer_url == referrer_url


@pytest.mark.parametrize(
    ("url", "referrer", "site"),
    [
        ("https://example.com/b", "https://example.com/a", "example.com"),
        ("https://example.com/b", "https://www.example.com/a", "example.com"),
        ("https://www.example.com/b", "https://example.com/a", "example.com"),
        ("https://example.com/b", "https://blog.example.com/", "example.com"),
        ("https://example.com/b", "https://a.b.example.com/", "example.com"),
        ("https://example.com/b", "https://EXAMPLE.com:8443/", "example.com"),
        ("https://example.com/b", "https://example.com./", "example.com"),
        ("https://shop.partner.net/b", "https://www.shop.partner.net/a", "example.com"),
        ("https://blog.example.com/b", "https://example.com/", "https://www.Example.com/"),
    ],
)
def test_internal_referrers_are_not_sources(url, referrer, site):
    result = attribute(url=url, referrer=referrer, site=site)
    assert (result.referrer_url, result.source, result.channel) == (None, None, "Direct")


def test_internal_referrer_falls_back_to_utm_source():
    result = attribute(referrer="https://example.com/", utm_source="newsletter", utm_medium="email")
    assert (result.referrer_url, result.source, result.channel) == (None, "newsletter", "Email")


@pytest.mark.parametrize(
    "referrer",
    [None, "", "   ", "about:blank", "not a url", "javascript:alert(1)", "file:///etc/passwd", "//google.com/", "google.com", "http://[::1"],
)
def test_missing_or_unusable_referrer_is_direct(referrer):
    result = attribute(referrer=referrer)
    assert result == SourceAttribution(
        referrer_url=None,
        source=None,
        channel="Direct",
        utm_source=None,
        utm_medium=None,
        utm_campaign=None,
        utm_content=None,
        utm_term=None,
    )


def test_utm_source_as_sent_is_the_source_without_an_external_referrer():
    result = attribute(utm_source="  Spring Promo ")
    assert result.source == "Spring Promo"
    assert result.utm_source == "Spring Promo"
    assert result.channel == "Referral"


def test_external_referrer_wins_over_utm_source_for_source():
    result = attribute(referrer="https://www.google.de/", utm_source="newsletter")
    assert result.source == "google"
    assert result.utm_source == "newsletter"


def test_utm_fields_come_from_the_body_first():
    result = attribute(
        url="https://example.com/?utm_source=url_src&utm_medium=url_med&utm_campaign=url_camp&utm_content=url_c&utm_term=url_t",
        utm_source="Body_Src",
        utm_medium=" cpc ",
        utm_campaign="Body Camp",
        utm_content="Body C",
        utm_term="body t",
    )
    assert (result.utm_source, result.utm_medium, result.utm_campaign, result.utm_content, result.utm_term) == (
        "Body_Src",
        "cpc",
        "Body Camp",
        "Body C",
        "body t",
    )


def test_utm_fields_fall_back_to_the_url_query_trimmed_and_decoded():
    result = attribute(
        url="https://example.com/?utm_source=%20Google%20&utm_medium=CPC&utm_campaign=Summer+Sale&utm_content=ad1&utm_term=running%20shoes",
        utm_source=None,
        utm_medium="   ",
    )
    assert (result.utm_source, result.utm_medium, result.utm_campaign, result.utm_content, result.utm_term) == (
        "Google",
        "CPC",
        "Summer Sale",
        "ad1",
        "running shoes",
    )
    assert result.channel == "Paid Search"


def test_empty_utm_values_are_none():
    result = attribute(url="https://example.com/?utm_source=&utm_medium=%20", utm_campaign="")
    assert (result.utm_source, result.utm_medium, result.utm_campaign) == (None, None, None)
    assert result.channel == "Direct"


@pytest.mark.parametrize(
    ("url", "referrer", "utm", "channel"),
    [
        # §3.6 pinned cases, through the whole attribution.
        ("https://example.com/", None, {}, "Direct"),
        ("https://example.com/", "https://www.google.de/", {}, "Organic Search"),
        ("https://example.com/?gclid=abc", "https://www.google.com/", {}, "Paid Search"),
        ("https://example.com/?msclkid=abc", "https://www.bing.com/", {}, "Paid Search"),
        ("https://example.com/", "https://www.google.com/", {"utm_source": "google", "utm_medium": "cpc"}, "Paid Search"),
        ("https://example.com/", "https://duckduckgo.com/", {"utm_medium": "ppc"}, "Paid Search"),
        ("https://example.com/", "https://l.facebook.com/", {}, "Organic Social"),
        ("https://example.com/?fbclid=IwAR0x", "https://l.facebook.com/", {}, "Organic Social"),
        ("https://example.com/", "https://l.facebook.com/", {"utm_source": "facebook", "utm_medium": "paid_social"}, "Paid Social"),
        ("https://example.com/?ttclid=1", "https://www.tiktok.com/", {}, "Paid Social"),
        ("https://example.com/?li_fat_id=1", "https://www.linkedin.com/", {}, "Paid Social"),
        ("https://example.com/?gclid=1", "https://news.ycombinator.com/", {}, "Organic Social"),
        ("https://example.com/", None, {"utm_medium": "email"}, "Email"),
        ("https://example.com/", None, {"utm_source": "newsletter"}, "Email"),
        ("https://example.com/", None, {"utm_source": "E-Mail"}, "Email"),
        ("https://example.com/", "https://mail.google.com/", {}, "Email"),
        ("https://example.com/", "https://outlook.live.com/", {}, "Email"),
        ("https://example.com/", "https://chatgpt.com/", {}, "AI Search"),
        ("https://example.com/?utm_source=chatgpt.com", None, {}, "AI Search"),
        ("https://example.com/", "https://www.perplexity.ai/", {}, "AI Search"),
        ("https://example.com/", "https://claude.ai/", {}, "AI Search"),
        ("https://example.com/", "https://gemini.google.com/", {}, "AI Search"),
        ("https://example.com/", "https://copilot.microsoft.com/", {}, "AI Search"),
        ("https://example.com/", None, {"utm_source": "partner", "utm_medium": "affiliate"}, "Affiliates"),
        ("https://example.com/", None, {"utm_source": "adnet", "utm_medium": "display"}, "Display"),
        ("https://example.com/", None, {"utm_source": "adnet", "utm_medium": "banner"}, "Display"),
        ("https://example.com/", None, {"utm_source": "adnet", "utm_medium": "cpm"}, "Display"),
        ("https://example.com/", None, {"utm_source": "twilio", "utm_medium": "sms"}, "SMS"),
        ("https://example.com/", None, {"utm_source": "google", "utm_campaign": "pmax-cross-network"}, "Cross-network"),
        ("https://example.com/", "https://www.youtube.com/", {}, "Organic Video"),
        ("https://example.com/?gclid=1", "https://www.youtube.com/", {}, "Paid Video"),
        ("https://example.com/", "https://www.amazon.de/", {}, "Organic Shopping"),
        ("https://example.com/", "https://www.amazon.com/", {"utm_medium": "cpc"}, "Paid Shopping"),
        ("https://example.com/", "https://github.com/x/y", {}, "Referral"),
        ("https://example.com/", "https://some-blog.org/", {}, "Referral"),
        ("https://example.com/", None, {"utm_source": "podcast"}, "Referral"),
        ("https://example.com/", "https://t.co/x", {"utm_source": "twitter_bio"}, "Organic Social"),
        ("https://example.com/?gclid=abc", None, {}, "Paid Search"),
        ("https://example.com/?ttclid=abc", None, {}, "Direct"),
    ],
)
def test_channel_of_an_event(url, referrer, utm, channel):
    assert attribute(url=url, referrer=referrer, **utm).channel == channel


def test_parse_referrer_rejects_other_schemes():
    assert parse_referrer("ftp://files.example.org/x") is None
    assert parse_referrer("https://blog.org/a").host == "blog.org"
