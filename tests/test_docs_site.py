"""`make docs` builds the site offline; headless Chromium opens the index and an API page, which render and link."""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "chromium and chromedriver are needed: apt-get install chromium chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='speechnb-chrome-')}", "--window-size=1280,900"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_docs.py"), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def test_index_and_api_pages_render_and_link(site):
    from selenium.webdriver.common.by import By
    browser = _browser()
    try:
        browser.get((site / "index.html").as_uri())
        assert "speechnb" in browser.title
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "Quick start" in body and "make reproduce" in body
        hrefs = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "nav.site a")]
        assert any(h.endswith("api/index.html") for h in hrefs)
        for href in hrefs:  # every navigation link points at a page that exists
            assert Path(href.removeprefix("file://")).is_file(), href
        browser.find_element(By.LINK_TEXT, "API").click()
        browser.find_element(By.PARTIAL_LINK_TEXT, "speechnb.core").click()
        assert browser.current_url.endswith("api/core.html")
        text = browser.find_element(By.TAG_NAME, "body").text
        assert "read_jsonl" in text and "atomic_write" in text and "SpeechnbError" in text
        notebook_link = browser.find_element(By.CSS_SELECTOR, "#read_jsonl a").get_attribute("href")
        browser.get(notebook_link.split("#")[0])
        assert "JSON Lines" in browser.find_element(By.TAG_NAME, "body").text  # the notebook page itself
    finally:
        browser.quit()
