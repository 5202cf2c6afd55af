"""extract_article on small hand-written pages, one per tricky family (real trafilatura)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.config import Source
from pipeline.extract import EXTRACTOR_VERSION, extract_article, extract_outcome

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
SEED_URL = "https://examiner.example/2023/05/22/russian-governor-alarmed/"

SEED_PARAGRAPHS = [
    "Russia has been forced to launch a “counter-terror operation” in the southwestern border region, "
    "where a pair of militias claim to be liberating border towns from the Kremlin's rule.",
    "“The situation here is extremely tense,” said the regional governor. “I hope our military will "
    "finish the operation shortly and the territory of the region will be freed from the enemy.”",
    "That announcement came hours after reports of a brazen assault on a border checkpoint, conducted "
    "by forces apparently in possession of an armored vehicle.",
    "Kremlin spokesmen downplayed the operation as an attempt to divert attention from the front line "
    "and reduce the political effect of recent losses.",
    "Another video apparently released by the militia characterized it as a group of citizens who do "
    "not want their children to live under the current government.",
]
BOILERPLATE = [
    "Video Embed",
    "EVERYTHING YOU NEED TO KNOW",
    "CLICK HERE",
    "© 2023",
    "Related Content",
    "Pool Photo via AP",
    "Klimentyev/AP",
    "Border towns evacuated",
]


def paras(texts: list[str]) -> str:
    return "".join(f"<p>{text}</p>" for text in texts)


def article_page(inner: str, headline: str = "A headline here", head: str = "") -> str:
    """A minimal article page: ``inner`` after the ``<h1>`` inside ``<article>``."""
    return f"<html><head>{head}</head><body><article><h1>{headline}</h1>{inner}</article></body></html>"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_seed_story_extracts_exactly_its_paragraphs() -> None:
    article = extract_article(fixture("seed_story.html"), SEED_URL)
    assert article is not None
    assert article.text.split("\n\n") == SEED_PARAGRAPHS
    for junk in BOILERPLATE:
        assert junk not in article.text
    assert any("CLICK HERE" in line for line in article.removed_lines)
    assert article.extractor_version == EXTRACTOR_VERSION


def test_seed_story_metadata() -> None:
    article = extract_article(fixture("seed_story.html"), SEED_URL)
    assert article is not None
    assert article.title == "Russian governor alarmed as militias strike border region"
    assert article.authors == ["Jane Roe"]
    assert article.published_at is not None and article.published_at.tzinfo is not None
    assert article.published_at.date() == date(2023, 5, 22)
    assert article.published_from == "jsonld"
    assert article.canonical_url == "https://examiner.example/2023/05/22/russian-governor-alarmed/"
    assert article.language == "en"
    assert article.is_article
    assert ("https://examiner.example/2023/05/21/a/", "related") in article.links


def test_listing_page_is_not_an_article_and_says_why() -> None:
    url = "https://examiner.example/world/"
    assert extract_article(fixture("listing.html"), url) is None
    outcome = extract_outcome(fixture("listing.html"), url)
    assert outcome.status == "not_article"
    assert outcome.reason and "jsonld-listing" in outcome.reason


def test_paywall_prompts_removed_and_byline_cleaned() -> None:
    article = extract_article(fixture("paywall_brief.html"), "https://ledger.example/news/uk/ferry-operator")
    assert article is not None
    assert "subscriber" not in article.text.lower()
    assert len(article.text.split("\n\n")) == 2
    # "By Sam Hill, Transport Correspondent" -> the person only.
    assert article.authors == ["Sam Hill"]
    assert article.title == "Ferry operator cancels crossings after engine fault"
    assert article.published_from == "meta"


def test_empty_and_garbage_inputs_return_none() -> None:
    for html in ("", "   ", b"", b"\x00\xff\xfe", "<html></html>", "not html at all"):
        assert extract_article(html, "https://example.org/a") is None
    assert extract_outcome("", "https://example.org/a").status == "empty"


def test_source_overrides_drop_selectors_and_patterns() -> None:
    source = Source.model_validate(
        {
            "key": "examiner",
            "name": "Capital Examiner",
            "homepage": "https://examiner.example/",
            "extraction": {
                "drop_selectors": ["p:nth-of-type(1)"],
                "drop_patterns": [r"^Kremlin spokesmen"],
            },
        }
    )
    article = extract_article(fixture("seed_story.html"), SEED_URL, source)
    assert article is not None
    text = article.text
    assert "Kremlin spokesmen" not in text
    assert SEED_PARAGRAPHS[2] in text


@pytest.mark.parametrize(
    "line",
    [
        "CLICK HERE TO READ MORE FROM THE WASHINGTON EXAMINER",
        "Video Embed",
        "© 2023 Washington Examiner",
        "Related Content",
        "Sign up for our newsletter to get the best stories",
        "Photo: Jane Doe/Reuters",
        "Advertisement",
        "Article reviewed by: Jane Doe",
        "Written by Cassidy Horton",
        "Tags: Employment, Health & Fitness",
        "Sponsored Content",
        "Awesome, you're subscribed!",
        "Share With a Friend or Colleague",
        "Last updated on September 16th, 2023 at 09:27 am",
        "Related Searches: Appliances, Household Appliances",
        "Skip Navigation",
        "8 min read",
        "Page 1 of 8",
        "Sign up today and make this your healthiest fall yet.",
        "Join our newsletter for actionable tips and proven strategies to grow your business",
        "By entering your email address you agree to our Terms of Use and Privacy Policy.",
        "Thanks for subscribing! Look out for your first newsletter in your inbox soon!",
        "Did you find this content helpful?",
        "Enjoyed the article? Get new content delivered to your inbox.",
        "Related articles that may interest you",
    ],
)
def test_boilerplate_lines_removed(line: str) -> None:
    html = article_page(paras(SEED_PARAGRAPHS[:3]) + f"<p>{line}</p>" + paras(SEED_PARAGRAPHS[3:]))
    article = extract_article(html, "https://example.org/2023/05/22/a-long-article-slug-here/")
    assert article is not None
    assert line not in article.text
    assert SEED_PARAGRAPHS[0] in article.text


def test_real_sentence_mentioning_boilerplate_words_survives() -> None:
    sentence = (
        "Officials said residents could click here and there on the new portal, but related content "
        "about the evacuation was hard to find, according to the video released on Monday."
    )
    # A sentence opening like a credit line is still a sentence.
    credit_like = "Written by a team of volunteers over two winters, the report was published on Monday."
    html = article_page(
        f"<p>{sentence}</p>{paras(SEED_PARAGRAPHS)}<p>{credit_like}</p>{paras(SEED_PARAGRAPHS)}", "Headline"
    )
    article = extract_article(html, "https://example.org/2023/05/22/another-article-slug-here/")
    assert article is not None
    assert sentence in article.text
    assert credit_like in article.text


@pytest.mark.parametrize(
    "byline",
    [
        "<span>Written by Jane Okafor</span>",
        "<span>Author: Jane Okafor</span>",
        "<span>Posted by Jane Okafor</span>",
        "<p>Written byJane Okafor</p>",  # label and name glued into one text node
        "<span>Author:</span> <a href='/people/jo'>Jane Okafor</a>",  # label and name apart
        "<span>Written by:</span><span>Jane Okafor</span>",
        "<span>By Jane Okafor Last updated on 17 December 2025</span>",
    ],
)
def test_labelled_byline_near_headline_gives_the_author(byline: str) -> None:
    html = (
        "<html><body><article><header><h1>Governor warns of new border raids</h1>"
        f"<div>{byline}</div></header>{paras(SEED_PARAGRAPHS)}</article></body></html>"
    )
    article = extract_article(html, "https://example.org/2023/05/22/governor-warns-border-raids/")
    assert article is not None
    assert article.authors == ["Jane Okafor"]


def test_article_body_rendered_twice_is_kept_once() -> None:
    """Responsive layouts print the body twice (desktop and mobile): the copy is dropped."""
    body = paras(SEED_PARAGRAPHS)
    html = article_page(f"<div class='desktop'>{body}</div><div class='mobile'>{body}</div>")
    article = extract_article(html, "https://example.org/2023/05/22/a-long-article-slug-here/")
    assert article is not None
    assert article.text.split("\n\n") == SEED_PARAGRAPHS


def test_short_repeated_line_is_not_a_repeated_block() -> None:
    """A single recurring line (a refrain, a repeated subheading) is article text."""
    refrain = "Why it matters"
    paragraphs = [*SEED_PARAGRAPHS[:2], refrain, *SEED_PARAGRAPHS[2:4], refrain, SEED_PARAGRAPHS[4]]
    article = extract_article(article_page(paras(paragraphs)), "https://example.org/2023/05/22/a-slug-here/")
    assert article is not None
    assert article.text.split("\n\n") == paragraphs


def test_modal_dialog_text_is_not_article_text() -> None:
    dialog = (
        "<div role='dialog' aria-modal='true'><h2>Want to republish this story?</h2>"
        "<p>We are happy for our stories to be shared. Please credit us and our writers, "
        "and include a link back to the article URL at the top of the story.</p></div>"
    )
    html = article_page(paras(SEED_PARAGRAPHS) + dialog)
    article = extract_article(html, "https://example.org/2023/05/22/a-long-article-slug-here/")
    assert article is not None
    assert "republish" not in article.text
    assert article.text.split("\n\n") == SEED_PARAGRAPHS


def test_one_word_brand_as_author_is_not_a_person() -> None:
    ld = '{"@type": "BlogPosting", "headline": "Five tips", "author": {"@type": "Person", "name": "Buzzsprout"}}'
    html = article_page(
        paras(SEED_PARAGRAPHS), "Five tips", head=f"<script type='application/ld+json'>{ld}</script>"
    )
    article = extract_article(html, "https://www.buzzsprout.com/blog/five-tips")
    assert article is not None
    assert article.authors == []


def test_author_box_with_a_bio_gives_its_name() -> None:
    bio = (
        "<div class='blog_author-box'><div class='author-name'>Lauren Vetter</div><p>Lauren Vetter is a "
        "growth-focused marketing professional who has written about healthcare technology for a decade.</p></div>"
    )
    html = article_page(paras(SEED_PARAGRAPHS) + bio, "Five tips")
    article = extract_article(html, "https://example.org/2023/05/22/five-tips-for-podcasters/")
    assert article is not None
    assert article.authors == ["Lauren Vetter"]


def test_bare_extraction_fallback_gives_the_same_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """The path for a trafilatura without its internal cascade helper (a version bump) still works."""
    import pipeline.extract.htmlbody as htmlbody

    direct = extract_article(fixture("seed_story.html"), SEED_URL)
    monkeypatch.setattr(htmlbody, "_sequence", None)
    fallback = extract_article(fixture("seed_story.html"), SEED_URL)
    assert direct is not None and fallback is not None
    assert fallback.text == direct.text
    assert fallback.text.split("\n\n") == SEED_PARAGRAPHS


@pytest.mark.parametrize(
    ("text", "furniture"),
    [
        ("World\nHarbour board votes\nBy Ann Lee\n12 March 2026\nFacebook Twitter Email Print", True),
        ("The harbour board voted on Tuesday to close the east pier.", False),  # a one-line brief
        ("市议会周二投票决定关闭东码头。", False),  # CJK full stop
        # Thai ends sentences with spaces: a short paragraph on one long line is prose.
        (
            "คณะกรรมการท่าเรือลงมติเมื่อวันอังคารให้ปิดท่าเรือฝั่งตะวันออก เนื่องจากโครงสร้างเสียหาย "
            "หลังพายุเมื่อเดือนที่แล้ว และจะเปิดอีกครั้งในฤดูใบไม้ผลิ",
            False,
        ),
        ("Short\n" * 100, False),  # too long to be only a headline and buttons
        (
            "World Residents divided over road safety plan By Daniel Harmon October 01, 2026 12:36 PM"
            " Facebook Twitter Email Print this article Advertisement",
            True,
        ),  # chrome on one line; "12:36" is no sentence end
    ],
)
def test_furniture_only_text_is_told_from_short_bodies(text: str, furniture: bool) -> None:
    from pipeline.extract.notices import is_furniture_only

    assert is_furniture_only(text) is furniture


def test_page_with_an_empty_body_container_is_empty_not_an_article() -> None:
    """A CMS that renders headline, byline and share buttons around an empty body."""
    page = (
        "<html><head><title>Harbour board votes</title></head><body><article>"
        "<h1>Harbour board votes</h1><p class='byline'>By Ann Lee</p><time>12 March 2026</time>"
        "<div class='body'></div><ul class='share'><li>Facebook</li><li>Twitter</li><li>Email</li></ul>"
        "</article></body></html>"
    )
    outcome = extract_outcome(page.encode(), "https://capital.example/2026/03/12/harbour/")
    assert outcome.status != "ok"
