"""Data-driven cleaning rules: tables, not code.

Each table is generic for the news web (several languages where cheap). A rule earns its
place by removing boilerplate on real pages without dropping a real paragraph of the
benchmark; `tests/test_extract_rules.py` pins each family with a small fixture.
"""

from __future__ import annotations

import re

# --- before extraction: elements removed from the DOM --------------------------------------
# Matched against the class/id tokens of an element (whole tokens or hyphen/underscore parts).
DROP_CLASS_TOKENS: frozenset[str] = frozenset(
    {
        "caption",
        "figcaption",
        "credit",
        "credits",
        "photo-credit",
        "image-credit",
        "img-credit",
        "wp-caption-text",
        "media-caption",
        "video-embed",
        "embed-video",
        "video-player",
        "newsletter-signup",
        "newsletter-promo",
        "related-content",
        "related-articles",
        "related-posts",
        "related-stories",
        "read-more",
        "readmore",
        "share-buttons",
        "social-share",
        "sharing",
        "ad-container",
        "advertisement",
        "inline-promo",
        "promo-box",
        "author-box",
        "author-bio",
        "about-author",
        "author-info",
        "author-card",
        "author-description",
        "authorbox",
        "post-author-box",
        "saboxplugin-wrap",
        "abh_box",
        "molongui-author-box",
        "sr-only",
        "visually-hidden",
        "screen-reader-text",
    }
)
# Never-text subtrees removed before extraction (speed: trafilatura copies and scans the tree).
INERT_TAGS: tuple[str, ...] = ("style", "svg", "canvas")
# Page furniture trafilatura's own cleaning drops from the main extraction anyway; removing it
# up front spares the copies/scans and keeps it out of the readability/justext fallbacks.
LAYOUT_TAGS: tuple[str, ...] = ("iframe", "embed", "object", "applet", "audio", "video", "input")
# Containers that are furniture when small; malformed pages sometimes nest the whole page in an
# unclosed one, so they are removed only when they hold a small share of the page's text.
GUARDED_LAYOUT_TAGS: tuple[str, ...] = ("nav", "aside", "footer", "form", "button", "menu", "select")
GUARDED_MAX_SHARE = 0.15
# Modal dialogs (republish notices, sign-up and cookie overlays): never part of the article.
DIALOG_XPATH = ".//*[@role='dialog' or @role='alertdialog' or @aria-modal='true']"
# Tags removed with their content before extraction.
DROP_TAGS: tuple[str, ...] = ("figcaption", "noscript", "template", "dialog")

# --- after extraction: whole lines removed ------------------------------------------------
# A line matching one of these (after whitespace normalisation, case-insensitive) is
# boilerplate. Anchored: they must match the WHOLE line, so real sentences survive.
# A written date as sites print it in a dateline: "Mon, May 22, 2023 at 9:41 am", "22 May 2023".
DATELINE_DATE = (
    r"((mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s*)?"
    r"([a-z]{3,9}\.? \d{1,2}(st|nd|rd|th)?,? \d{4}|\d{1,2}(st|nd|rd|th)? [a-z]{3,9}\.?,? \d{4}"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})"
    r"(,?\s*(at\s*)?\d{1,2}[:.]\d{2}\s*([ap]\.?m\.?)?(\s*[a-z]{2,4})?)?"
)
BOILERPLATE_LINE_PATTERNS: tuple[str, ...] = (
    # promo / read-more links
    r"(click|tap) here\b.{0,80}",
    r"(read|see|view) (more|the full story|full article|more stories|next)\b.{0,60}",
    r"(more|read) from (the )?[\w .'&-]{2,60}",
    r"(related|recommended|more|popular|latest) (content|stories|articles|posts|reading|coverage|news|videos?"
    r"|resources)( that may interest you| you may (like|enjoy))?\s*:?",
    r"related\s*:?",
    r"(table of contents|contents|inhaltsverzeichnis|sommaire|índice|in this article)\s*:?",
    r"(also read|read also|see also|must read|don't miss|trending now|most popular|top stories)\s*:?.{0,120}",
    # video / embed placeholders
    r"(video|media|audio) (embed|player|placeholder)",
    r"(video|videos|watch|photos?|gallery|audio|listen|image|graphic)",
    r"(watch|play)( the)? video:?.{0,60}",
    r"(this|the) (video|content|embed) (is|can ?not be|could not be) (unavailable|displayed|loaded).{0,80}",
    r"(advertisement|sponsored|ad|anzeige|publicité|publicidad|werbung)",
    r"(scroll|continue) (down )?to (continue|read).{0,40}",
    r"story continues below( advertisement)?",
    r"article continues below.{0,40}",
    # newsletter / subscribe / social prompts
    r"(sign up|subscribe)( now| today)? (for|to) (our|the)\b.{0,100}",
    r"(get|receive) (our|the) .{0,40}newsletter.{0,80}",
    r"(follow|like) us on .{0,100}",
    r"share (this|on)( article| story)?\b.{0,40}",
    r"(jetzt )?(newsletter )?abonnieren.{0,60}",
    r"abonnez-vous.{0,80}",
    r"suscr[ií]bete.{0,80}",
    # byline/review credits and counters left as their own line (the byline is metadata)
    r"(article |content |medically )?(written|reviewed|edited|fact[- ]checked) by:?( [\w.'’-]+){0,4}",
    r"\d+ (published )?(articles|posts)",
    r"\d+\s*(min(ute)?s?\.?)\s*(read|reading)( time)?|(reading|read) time\s*:?\s*\d+\s*(min(ute)?s?)",
    r"(tags|filed under)\s*:.{0,120}",
    r"sponsored content|paid content|partner content",
    r"(awesome|thanks|thank you)[,!]? (you're|you are|you’re) (now )?(subscribed|signed up).{0,40}",
    r"share (with )?(a friend|your friends)( or colleague)?",
    # site furniture that trafilatura's recall mode lets through at the end of a body
    r"skip (to )?(navigation|content|main content)|privacy( policy)?|terms (of (use|service)|and conditions)",
    r"cookie (policy|settings|preferences)|accessibility( statement)?|sitemap|back to top",
    r"contact( us| info(rmation)?)?|get in touch",
    r"(add|leave|post|write) a (comment|reply)|\d+ (comments?|replies)|no comments( yet)?",
    r"page \d+ of \d+",
    r"subscribe( here| now| to this (site|blog|channel))?",
    r"(related|similar) (companies|searches|topics|tags|categories|posts|articles|products)\s*:.{0,300}",
    # calls to action and sign-up forms around the body
    r"(get started|sign up|start (your )?free trial|start for free)( today| now| for free)?\W*.{0,60}",
    r"join (our|the) (free )?(newsletter|mailing list|community|email list).{0,100}",
    r"by (entering|submitting|providing) your (email|e-mail|information|phone( number)?).{0,250}",
    r"(thank(s| you) for (subscribing|signing up|your (feedback|submission|interest))"
    r"|oops! something went wrong|your submission has been received).{0,100}",
    r"(did you find this|was this) (content|article|page|post|information)? ?helpful\??.{0,40}",
    r"(enjoy(ed)? (the|this) (post|article)|if you (enjoyed|liked) this (post|article|blog post)).{0,140}",
    # a dateline left as its own line (the date itself is metadata: published_at/modified_at)
    r"(published|posted|updated|last updated|last modified|originally published)( on)?:?\s*"
    + DATELINE_DATE
    + r"(\s*(\||by)\s*[\w .'-]{0,60})?",
    # paywall prompts
    r"(this|the) (article|story|content) is (only )?(for|available (to|for)) (paying )?(subscribers|members)\b.{0,60}",
    r"(subscribe|sign up|register|log ?in)( now| today)? to (continue|keep) reading\b.{0,200}",
    r"(subscribe now\s*)?already (a subscriber|a member|have an account)\??.{0,40}",
    # copyright / rights lines
    r"(©|\(c\)|copyright)\s*(\d{4})?.{0,100}",
    r"all rights reserved\.?.{0,40}",
    r"todos los derechos reservados.{0,40}",
    r"tous droits réservés.{0,40}",
    r"alle rechte vorbehalten.{0,40}",
    # photo credits
    r"(photo|image|picture|foto|bild)( credit)?s?\s*(:|by|via|courtesy)\s*.{1,80}",
    r"(getty images|ap photo|reuters|afp|shutterstock|dpa|epa)(/[\w .]+)?",
    r"\((ap|afp|reuters|getty images)( photo)?(/[\w .]+)?\)",
)
BOILERPLATE_LINE_RE = re.compile(
    r"^\W*(?:" + "|".join(f"(?:{p})" for p in BOILERPLATE_LINE_PATTERNS) + r")\W*$", re.I
)

# A block of lines repeated verbatim later in the text (a second rendering of the body).
REPEAT_MIN_LINES = 3
REPEAT_MIN_CHARS = 500

# A short line that is only a link and shouts in capitals is an in-body promo headline.
PROMO_MIN_WORDS = 3
PROMO_MAX_WORDS = 25

# Photo caption tail: "... (Photographer, Agency Photo via AP) Name/AP".
CAPTION_CREDIT_RE = re.compile(
    r"\((?:[^()]{0,120}?\b(?:photo|photograph|image|pool|via|courtesy|credit|getty|ap|afp|reuters|file)\b[^()]{0,120})\)"
    r"(?:\s*[\w.'-]+(?:\s[\w.'-]+){0,4}/(?:AP|AFP|Reuters|Getty Images|EPA|Sipa|Bloomberg))?\s*$",
    re.I,
)

# --- authors ------------------------------------------------------------------------------
# Words that never belong to a person's name in a byline.
NON_PERSON_WORDS: frozenset[str] = frozenset(
    {
        "staff", "editor", "editors", "editorial", "team", "desk", "newsroom", "admin", "administrator",
        "news", "press", "media", "reporter", "correspondent", "contributor", "contributors", "writer",
        "writers", "agency", "associated", "wire", "service", "services", "board", "group", "inc", "llc",
        "ltd", "gmbh", "corp", "company", "magazine", "times", "post", "journal", "daily", "tribune",
        "herald", "examiner", "gazette", "review", "weekly", "online", "digital", "guest",
        "sponsored", "partner", "updated", "published", "posted", "min", "read", "minute", "minutes",
        "share", "follow", "facebook", "twitter", "linkedin", "instagram", "email", "view", "all",
        "posts", "articles", "more", "about", "author", "authors", "by", "the", "of", "for", "in", "at",
        "redaktion", "rédaction", "redacción", "redazione", "university", "institute", "foundation",
        "department", "ministry", "council", "association", "society", "network", "blog", "official",
        "founder", "ceo", "cto", "manager", "director", "head", "senior", "associate", "chief", "lead",
        "marketing", "content", "strategist", "specialist", "consultant", "expert", "coach", "analyst",
        "officer", "president", "vp", "professor", "student", "engineer", "developer", "designer",
        "photographer", "columnist", "producer", "anchor", "host", "edited", "written", "reviewed",
        "fact", "checked", "medically", "contributing", "freelance", "features", "opinion", "sports",
        "politics", "business", "technology", "tech", "health", "science", "world", "local", "national",
        "international", "and", "und", "et", "with", "says", "said", "wrote", "bio", "full", "login",
        "log", "sign", "home", "last", "update", "co", "winemaker", "case", "use", "tool",
    }
)  # fmt: skip
AUTHOR_STOPWORDS: frozenset[str] = frozenset(
    {
        "admin",
        "administrator",
        "anonymous",
        "unknown",
        "guest",
        "staff",
        "editor",
        "webmaster",
        "root",
        "user",
    }
)
