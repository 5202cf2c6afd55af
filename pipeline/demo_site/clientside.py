"""A client-rendered story: the page is a JavaScript shell, its body comes by XHR.

Every outlet serves one such page at :data:`SHELL_PATH`, linked from nowhere (so crawls of
the demo sources and their manifests are unchanged): the HTML holds navigation, an empty
mount point and a script that fetches :data:`DATA_PATH` and builds the article. Without a
browser there is nothing to extract (no body in the HTML, none in embedded JSON); a source
with ``render: browser`` stores the story. The script also reports (in the DOM) whether
its request succeeded, which the rendering tests read back.
"""

from __future__ import annotations

import json
from html import escape

from pipeline.demo_site.outlets import OutletSpec

SHELL_PATH = "/app/2024/06/11/night-ferry-returns"
DATA_PATH = "/api/stories/night-ferry-returns.json"
TITLE = "Night ferry returns after a winter of repairs"
AUTHOR = "Mira Hollis"
PUBLISHED = "2024-06-11T07:30:00+00:00"
PARAGRAPHS = (
    "The night ferry to the outer islands returned to service on Monday after a winter in dry dock, "
    "where engineers replaced both engines and the worn deck plating of the car ramp.",
    "The operator said the repairs cost more than planned because corrosion had spread further into "
    "the hull than the spring survey suggested, and the return was delayed by three weeks as a result.",
    "Islanders who commute to the mainland hospital and the college welcomed the return of the late "
    "sailing, which leaves the town quay at half past ten and reaches the last island after midnight.",
    "A spokesperson said the timetable would stay unchanged until the autumn, when the harbour "
    "authority will review whether a second late crossing on Fridays and Saturdays is affordable.",
)

_SCRIPT = """
(function () {
  var mount = document.getElementById('app');
  var xhr = new XMLHttpRequest();
  xhr.open('GET', %(data)s);
  xhr.onload = function () {
    var story = JSON.parse(xhr.responseText);
    var article = document.createElement('article');
    var h1 = document.createElement('h1');
    h1.textContent = story.title;
    article.appendChild(h1);
    var by = document.createElement('p');
    by.className = 'byline';
    by.textContent = 'By ' + story.author;
    article.appendChild(by);
    var time = document.createElement('time');
    time.setAttribute('datetime', story.published);
    time.textContent = story.published.slice(0, 10);
    article.appendChild(time);
    story.paragraphs.forEach(function (text) {
      var p = document.createElement('p');
      p.textContent = text;
      article.appendChild(p);
    });
    mount.innerHTML = '';
    mount.appendChild(article);
    document.title = story.title;
  };
  xhr.send();
})();
"""


def shell_html(spec: OutletSpec) -> str:
    """The page as served: no article text anywhere in it."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(spec.name)}</title>"
        "<meta property='og:type' content='article'></head><body>"
        f"<header><a href='/'>{escape(spec.name)}</a><nav><a href='/'>Home</a></nav></header>"
        "<main><div id='app'><div class='skeleton' aria-busy='true'></div></div></main>"
        "<noscript>You need to enable JavaScript to read this story.</noscript>"
        f"<footer><p>© {escape(spec.name)}</p></footer>"
        f"<script>{_SCRIPT % {'data': json.dumps(DATA_PATH)}}</script></body></html>"
    )


def story_json() -> bytes:
    return json.dumps(
        {"title": TITLE, "author": AUTHOR, "published": PUBLISHED, "paragraphs": list(PARAGRAPHS)}
    ).encode()
