"""Fault rows of issue 15 (detection that never loses an article), on hand-written pages.

Each row is a fault that was measured on held-out news pages, replayed through the real
``extract_outcome`` (real trafilatura, the shipped detection model): the page is a genuine
article and must come out ``ok``, with the detection score that says how sure it was.
"""

from __future__ import annotations

import pytest

from pipeline.extract import extract_outcome

RELATED = {
    "zh": ["央行宣布下调存款准备金率", "新能源汽车销量再创新高", "多地发布高温预警"],
    "ja": ["日銀、金融政策の維持を決定", "新幹線、一部区間で運転見合わせ", "台風十号が接近"],
    "ko": ["한국은행 기준금리 동결", "수도권 아파트 거래량 증가", "내일 전국에 비 소식"],
    "th": ["ธนาคารกลางคงอัตราดอกเบี้ย", "ราคาน้ำมันปรับตัวลดลง", "พยากรณ์อากาศวันพรุ่งนี้"],
}

#: Short real-looking briefs: two or three paragraphs, as news sites in these scripts publish them.
BRIEFS = {
    "zh": (
        "地铁三号线延长段明日开通",
        [
            "记者从市交通委获悉，地铁三号线延长段将于明天上午六时正式开通运营，全长十二公里，共设八座车站。",
            "开通初期，列车高峰时段行车间隔为五分钟。市民可使用交通卡或手机扫码乘车。",
        ],
    ),
    "ja": (
        "県内の公立高校、来春から制服を自由化",
        [
            "県教育委員会は三十日、来年四月から県内すべての公立高校で制服の着用を自由化すると発表した。",
            "生徒や保護者へのアンケートで賛成が多数を占めたことを受けた。各校は今後、詳しい規則を決める。",
        ],
    ),
    "ko": (
        "도심 자전거 도로 확대한다",
        [
            "시는 내년까지 도심 자전거 도로를 50킬로미터 늘리겠다고 30일 밝혔다. 총사업비는 200억 원이다.",
            "시 관계자는 출퇴근 시간 교통 혼잡을 줄이는 데 도움이 될 것이라고 말했다.",
        ],
    ),
    "th": (
        "เปิดใช้สะพานข้ามแม่น้ำแห่งใหม่",
        [
            "กรมทางหลวงชนบทเปิดให้ประชาชนใช้สะพานข้ามแม่น้ำแห่งใหม่อย่างเป็นทางการเมื่อเช้าวันนี้ "
            "ช่วยลดระยะเวลาการเดินทางระหว่างสองฝั่งลงกว่าครึ่งชั่วโมง",
            "เจ้าหน้าที่ระบุว่าจะมีการจัดเจ้าหน้าที่อำนวยความสะดวกด้านการจราจรตลอดสัปดาห์แรก",
        ],
    ),
}


def cjk_brief(lang: str) -> str:
    headline, paragraphs = BRIEFS[lang]
    related = "".join(
        f'<li><a href="/{lang}/news/{i}.html">{t}</a></li>' for i, t in enumerate(RELATED[lang])
    )
    nav = "".join(
        f'<a href="/{lang}/{s}/">{t}</a>' for s, t in zip(("a", "b", "c"), RELATED[lang], strict=True)
    )
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<html lang="{lang}"><head><title>{headline}</title>'
        f'<meta property="og:type" content="article"><meta property="og:title" content="{headline}">'
        '<meta property="article:published_time" content="2026-11-30T08:00:00+08:00"></head>'
        f"<body><header><nav>{nav}</nav></header><main><article><h1>{headline}</h1>"
        f'<time datetime="2026-11-30T08:00:00+08:00">2026-11-30</time>{body}</article>'
        f"<aside><ul>{related}</ul></aside></main><footer>© 2026</footer></body></html>"
    )


@pytest.mark.parametrize("lang", sorted(BRIEFS))
def test_cjk_article_rejected_as_little_text(lang: str) -> None:
    """A CJK/Thai article was rejected as "little text": words were counted with ``text.split()``."""
    html = cjk_brief(lang)
    headline, paragraphs = BRIEFS[lang]
    assert sum(len(p.split()) for p in paragraphs) < 25  # the old "little-text" verdict
    outcome = extract_outcome(html, f"https://news.example/{lang}/2026/11/30/20261130001.html")
    assert outcome.status == "ok", (outcome.reason, outcome.signals)
    assert outcome.article is not None and outcome.article.title == headline
    for paragraph in paragraphs:
        assert paragraph in outcome.article.text
    assert outcome.score is not None and outcome.score > 0


#: A personal blog post (no og:type, no JSON-LD) filed under the blog's dated archive path.
ARCHIVED_POST = """<html lang="en"><head><title>Vibe coding, a month in</title></head><body>
<header><a href="/">Home</a> <a href="/archives/">Archives</a> <a href="/about.html">About</a></header>
<h1>Vibe coding, a month in</h1>
<p>For a month I let a language model write most of the code in a small research project, and
I kept notes on where it helped and where it quietly made things worse than they had been.</p>
<p>The first week went well. Boilerplate appeared in seconds, tests were written before I asked,
and the plotting scripts that usually eat an afternoon were done by lunch on the first day.</p>
<p>Then the drift began: small changes to shared helpers that nobody asked for, renamed
arguments, and a caching layer that made a bug impossible to reproduce for two whole days.</p>
<p>By the end I had settled on a routine: small requests, every diff read in full, and a test
for each behaviour I cared about before the model was allowed to touch the code around it.</p>
<p>Posted by David on December 16, 2025.</p>
</body></html>"""


def test_post_in_a_dated_archive_path_vetoed_as_listing_url() -> None:
    """A blog post under ``/archives/2025/12/16/…html`` was vetoed as "listing-url-undeclared":
    the ``archives`` segment made the URL a listing's although the rest of it is an article's."""
    url = "https://blog.example/archives/2025/12/16/vibe_coding.html"
    outcome = extract_outcome(ARCHIVED_POST, url)
    assert outcome.signals["listing-url"] == 1.0 and outcome.signals["article-url"] == 1.0
    assert "listing-url-undeclared" not in outcome.detection
    assert outcome.status == "ok", (outcome.reason, outcome.signals)
    # the same page at an archive index URL is still vetoed
    index = extract_outcome(ARCHIVED_POST, "https://blog.example/archives/")
    assert index.status == "not_article" and "listing-url-undeclared" in index.detection
