"""``render`` in sources.yaml: validated, and only sources that ask for a browser load one."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from pipeline.config import Source

BASE = {"key": "a", "name": "A", "homepage": "http://127.0.0.1:8701/"}


def test_render_is_none_by_default_and_only_browser_is_accepted() -> None:
    assert Source.model_validate(BASE).render == "none"
    assert Source.model_validate({**BASE, "render": "browser"}).render == "browser"
    with pytest.raises(ValidationError):
        Source.model_validate({**BASE, "render": "chrome"})


PROBE = """
import sys
from pipeline.config import Source
from crawlers.settings import scrapy_settings
import crawlers.spiders.news, crawlers.fence, crawlers.run
source = Source.model_validate({"key": "a", "name": "A", "homepage": "http://127.0.0.1:8701/", "render": "%s"})
settings = scrapy_settings(source, user_agent="newsflow/test")
print(settings.get("DOWNLOAD_HANDLERS", {}).get("http"), "playwright" in sys.modules)
"""


@pytest.mark.parametrize(
    ("render", "expected"),
    [("none", "None False"), ("browser", "crawlers.render.FencedPlaywrightHandler True")],
)
def test_only_rendering_sources_import_playwright(render: str, expected: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE % render], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == expected
