"""The channel registry: GA4's default channel grouping with the contract's pinned cases."""

import pytest

from clickport.ingest.channels import CHANNEL_RULES, CHANNELS, classify_channel, click_ids_in


def channel(
    *,
    source=None,
    category=None,
    referrer=False,
    utm_source=None,
    medium=None,
    campaign=None,
    click_ids=(),
):
    return classify_channel(
        source_name=source,
        source_category=category,
        has_external_referrer=referrer,
        utm_source=utm_source,
        utm_medium=medium,
        utm_campaign=campaign,
        click_ids=set(click_ids),
    )


CASES = [
    # (expected channel, inputs)
    ("Direct", {}),
    ("Direct", {"campaign": "summer"}),
    ("Direct", {"medium": "cpc"}),
    ("Direct", {"click_ids": {"fbclid"}}),
    ("Direct", {"click_ids": {"ttclid"}}),
    ("Organic Search", {"source": "google", "category": "search", "referrer": True}),
    ("Organic Search", {"source": "bing", "category": "search", "referrer": True, "click_ids": {"fbclid"}}),
    ("Organic Search", {"utm_source": "whatever", "source": "whatever", "medium": "organic"}),
    ("Paid Search", {"source": "google", "category": "search", "referrer": True, "click_ids": {"gclid"}}),
    ("Paid Search", {"source": "google", "category": "search", "referrer": True, "click_ids": {"gbraid"}}),
    ("Paid Search", {"source": "google", "category": "search", "referrer": True, "click_ids": {"wbraid"}}),
    ("Paid Search", {"source": "bing", "category": "search", "referrer": True, "click_ids": {"msclkid"}}),
    ("Paid Search", {"source": "google", "category": "search", "referrer": True, "click_ids": {"dclid"}}),
    ("Paid Search", {"source": "yandex", "category": "search", "referrer": True, "click_ids": {"yclid"}}),
    ("Paid Search", {"source": "google", "category": "search", "utm_source": "google", "medium": "cpc"}),
    ("Paid Search", {"source": "google", "category": "search", "utm_source": "google", "medium": "PPC"}),
    ("Paid Search", {"source": "google", "category": "search", "utm_source": "google", "medium": "paidsearch"}),
    ("Paid Search", {"source": "google", "category": "search", "utm_source": "google", "medium": "paid"}),
    ("Paid Search", {"source": "google", "category": "search", "utm_source": "google", "medium": "retargeting"}),
    ("Paid Search", {"click_ids": {"gclid"}}),
    ("Organic Social", {"source": "facebook", "category": "social", "referrer": True}),
    ("Organic Social", {"source": "facebook", "category": "social", "referrer": True, "click_ids": {"fbclid"}}),
    ("Organic Social", {"source": "instagram", "category": "social", "referrer": True, "click_ids": {"igshid"}}),
    ("Organic Social", {"source": "reddit", "category": "social", "referrer": True, "click_ids": {"gclid"}}),
    ("Organic Social", {"utm_source": "mastodon-post", "source": "mastodon-post", "medium": "social"}),
    ("Organic Social", {"utm_source": "x", "source": "x", "medium": "social-media"}),
    ("Paid Social", {"source": "facebook", "category": "social", "utm_source": "facebook", "medium": "cpc"}),
    ("Paid Social", {"source": "facebook", "category": "social", "utm_source": "fb", "medium": "paid_social"}),
    ("Paid Social", {"source": "tiktok", "category": "social", "referrer": True, "click_ids": {"ttclid"}}),
    ("Paid Social", {"source": "linkedin", "category": "social", "referrer": True, "click_ids": {"li_fat_id"}}),
    ("Paid Social", {"source": "twitter", "category": "social", "referrer": True, "click_ids": {"twclid"}}),
    ("Paid Social", {"source": "snapchat", "category": "social", "referrer": True, "click_ids": {"ScCid"}}),
    ("Paid Social", {"source": "facebook", "category": "social", "utm_source": "fb", "medium": "cpm"}),
    ("Email", {"utm_source": "newsletter", "source": "newsletter"}),
    ("Email", {"utm_source": "Email", "source": "Email"}),
    ("Email", {"utm_source": "e-mail", "source": "e-mail"}),
    ("Email", {"utm_source": "mailchimp", "source": "mailchimp", "medium": "email"}),
    ("Email", {"utm_source": "mailchimp", "source": "mailchimp", "medium": "E-Mail"}),
    ("Email", {"utm_source": "mailchimp", "source": "mailchimp", "medium": "newsletter"}),
    ("Email", {"medium": "email"}),
    ("Email", {"source": "gmail", "category": "email", "referrer": True}),
    ("AI Search", {"source": "chatgpt", "category": "ai", "referrer": True}),
    ("AI Search", {"source": "perplexity", "category": "ai", "referrer": True}),
    ("AI Search", {"source": "chatgpt.com", "category": "ai", "utm_source": "chatgpt.com"}),
    ("Affiliates", {"utm_source": "partner", "source": "partner", "medium": "affiliate"}),
    ("Affiliates", {"medium": "affiliate"}),
    ("Display", {"utm_source": "adnet", "source": "adnet", "medium": "display"}),
    ("Display", {"utm_source": "adnet", "source": "adnet", "medium": "banner"}),
    ("Display", {"utm_source": "adnet", "source": "adnet", "medium": "cpm"}),
    ("Display", {"utm_source": "adnet", "source": "adnet", "medium": "expandable"}),
    ("Display", {"utm_source": "adnet", "source": "adnet", "medium": "interstitial"}),
    ("Display", {"medium": "Display"}),
    ("SMS", {"utm_source": "sms", "source": "sms"}),
    ("SMS", {"utm_source": "twilio", "source": "twilio", "medium": "sms"}),
    ("Cross-network", {"utm_source": "google", "source": "google", "category": "search", "medium": "cpc", "campaign": "PMax Cross-Network 2026"}),
    ("Cross-network", {"campaign": "cross-network"}),
    ("Organic Video", {"source": "youtube", "category": "video", "referrer": True}),
    ("Organic Video", {"utm_source": "tube", "source": "tube", "medium": "video"}),
    ("Paid Video", {"source": "youtube", "category": "video", "utm_source": "youtube", "medium": "cpv"}),
    ("Paid Video", {"source": "youtube", "category": "video", "referrer": True, "click_ids": {"gclid"}}),
    ("Organic Shopping", {"source": "amazon", "category": "shopping", "referrer": True}),
    ("Organic Shopping", {"utm_source": "store", "source": "store", "campaign": "spring-shop"}),
    ("Organic Shopping", {"utm_source": "store", "source": "store", "campaign": "Shopping Week"}),
    ("Paid Shopping", {"source": "amazon", "category": "shopping", "utm_source": "amazon", "medium": "cpc"}),
    ("Paid Shopping", {"utm_source": "google", "source": "google", "category": "search", "medium": "cpc", "campaign": "shopping"}),
    ("Referral", {"source": "some-blog.org", "referrer": True}),
    ("Referral", {"source": "github", "referrer": True}),
    ("Referral", {"utm_source": "podcast", "source": "podcast"}),
    ("Referral", {"utm_source": "partner", "source": "partner", "medium": "referral"}),
    ("Referral", {"utm_source": "podcast", "source": "podcast", "medium": "cpc"}),
    ("Referral", {"source": "some-blog.org", "referrer": True, "click_ids": {"gclid"}}),
]


@pytest.mark.parametrize(("expected", "inputs"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_classify_channel(expected, inputs):
    assert channel(**inputs) == expected


def test_shop_inside_a_word_is_not_a_shopping_campaign():
    # GA4's pattern wants "shop" at a word start (not "workshop"); "e" is allowed before it (eshop).
    assert channel(utm_source="x", source="x", campaign="workshop") == "Referral"
    assert channel(utm_source="x", source="x", campaign="eshop-launch") == "Organic Shopping"


def test_every_channel_is_reachable_by_the_table():
    assert {expected for expected, _ in CASES} == set(CHANNELS)


def test_registry_names_only_known_channels_and_ends_with_the_referral_fallback():
    assert {rule.channel for rule in CHANNEL_RULES} <= set(CHANNELS)
    assert CHANNEL_RULES[0].channel == "Direct"
    assert CHANNEL_RULES[-1].channel == "Referral"
    assert len(CHANNELS) == len(set(CHANNELS)) == 16


def test_channel_is_always_a_known_non_empty_string():
    for inputs in ({}, {"medium": "weird"}, {"utm_source": "x", "source": "x", "medium": "push"}):
        result = channel(**inputs)
        assert result in CHANNELS and result


def test_click_ids_in_finds_known_ids_with_a_value_case_insensitively():
    query = {"gclid": "1", "FBCLID": "2", "msclkid": "", "ScCid": "3", "utm_source": "x", "ref": "y"}
    assert click_ids_in(query) == frozenset({"gclid", "fbclid", "sccid"})
