"""`make docs` builds the site offline; headless Chromium checks what a reader sees: titles in the index, notebook pages
with their outputs (tables, figures), rendered show_doc parameter tables, Markdown tables and inline code, every step's
config documented, the design page, and a search that finds pages.

The site is built from two small, fast notebooks (31_compare: figures; 40_preferences: tables), not all of them:
every notebook already runs under nbdev_test, and executing each a second time here would double the suite's time.
"""

import base64
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["31_compare", "40_preferences"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_docs.py"), "--out", str(out), "--only", *NOTEBOOKS],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def browser(load_script):
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver_path, "chromium and chromedriver are needed: apt-get install chromium chromium-driver"
    driver = load_script("docs_screenshots").browser(driver_path, chromium)  # offline: no host name resolves
    yield driver
    driver.quit()


def _text(browser):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.TAG_NAME, "main").text


def test_index_lists_titles_and_every_link_works(site, browser):
    from selenium.webdriver.common.by import By

    browser.get((site / "index.html").as_uri())
    assert "speechnb" in browser.title
    text = _text(browser)
    assert (
        "Quick start" in text and "Head to head" in text and "Preference pairs" in text
    )  # notebook titles, not file stems
    assert "31_compare" not in text.split("Notebooks")[-1]
    assert (
        browser.find_elements(By.CSS_SELECTOR, "main table th") and "|---|" not in text
    )  # the README's Markdown tables
    hrefs = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "nav.site a")]
    assert any(h.endswith("api/index.html") for h in hrefs) and any(h.endswith("design.html") for h in hrefs)
    for href in hrefs:
        assert Path(href.removeprefix("file://")).is_file(), href


def test_notebook_page_shows_outputs_and_rendered_docs(site, browser):
    from selenium.webdriver.common.by import By

    browser.get((site / "compare.html").as_uri())
    text = _text(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Head to head"
    assert (
        not text.startswith("---") and "#| export" not in text and "show_doc(" not in text
    )  # front matter, directives
    figures = browser.find_elements(By.CSS_SELECTOR, ".output img")
    assert figures and all(browser.execute_script("return arguments[0].naturalWidth", f) > 100 for f in figures)
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#bradley_terry th")]
    assert "Details" in headers and "Default" in headers  # docments parameter table
    assert "wins[i, j]" in browser.find_element(By.ID, "bradley_terry").text
    assert browser.find_elements(By.CSS_SELECTOR, "main p code")  # inline backticks as code
    browser.get((site / "preferences.html").as_uri())
    assert browser.find_elements(By.CSS_SELECTOR, ".output table.dataframe")  # a table a cell displayed


def test_api_and_config_pages_document_every_step_config(site, browser):
    from selenium.webdriver.common.by import By

    browser.get((site / "api" / "speechworthy.reward.html").as_uri())
    training = browser.find_element(By.ID, "rewardtrainingconfig").text
    assert "learning_rate" in training and "peak learning rate" in training
    browser.get((site / "configs.html").as_uri())
    text = _text(browser)
    for name in (
        "speechnb.speechworthy.voice_filter.FilterConfig",
        "speechnb.speechworthy.metrics.AnalyzeConfig",
        "speechnb.speechworthy.reward.RewardConfig",
    ):
        assert name in text
    assert "training.learning_rate" in text and "judge_threshold" in text
    browser.get((site / "design.html").as_uri())
    assert "Offline by default" in _text(browser) and "Profiles" in _text(browser)


def test_search_finds_a_page(site, browser):
    from selenium.webdriver.common.by import By

    browser.get((site / "design.html").as_uri())
    browser.find_element(By.ID, "search").send_keys("bradley terry")
    hits = browser.find_elements(By.CSS_SELECTOR, "#search-hits a")
    assert hits and any(h.get_attribute("href").endswith("compare.html") for h in hits)
    next(h for h in hits if h.get_attribute("href").endswith("compare.html")).click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Head to head"


def test_audio_and_markdown_outputs_are_rendered(load_script):
    build_docs = load_script("build_docs")
    import nbformat
    from IPython.display import Audio

    wav = Audio(data=[0.0, 0.5, -0.5, 0.0] * 400, rate=16000)._repr_html_()
    audio = nbformat.v4.new_output("display_data", data={"text/html": wav, "text/plain": "<Audio>"})
    assert "<audio" in build_docs.render_output(audio) and "base64" in build_docs.render_output(audio)
    table = nbformat.v4.new_output("display_data", data={"text/markdown": "| a | b |\n|---|---|\n| `x` | 2 |"})
    assert build_docs.render_output(table).count("<td>") == 2 and "<code>x</code>" in build_docs.render_output(table)
    png = base64.b64encode(b"\x89PNG fake").decode()
    assert build_docs.render_output(nbformat.v4.new_output("display_data", data={"image/png": png})).startswith("<img")


def test_pages_have_sidebar_contents_working_source_links_and_no_sideways_scroll(site, browser):
    from selenium.webdriver.common.by import By

    for name in ("compare.html", "preferences.html", "api/speechworthy.reward.html", "configs.html"):
        browser.get((site / name).as_uri())
        sidebar = browser.find_elements(By.CSS_SELECTOR, "aside.sidebar a")
        assert len(sidebar) >= 20, name  # every library notebook, grouped by research line
        wide = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"{name} scrolls sideways by {wide}px"
        sources = [a.get_attribute("href") for a in browser.find_elements(By.LINK_TEXT, "source")]
        assert all("#LNone" not in href for href in sources), name
    browser.get((site / "compare.html").as_uri())
    assert browser.find_element(By.CSS_SELECTOR, "aside.sidebar a.current").text == "compare"
    contents = browser.find_elements(By.CSS_SELECTOR, "aside.contents a")
    assert contents and all(browser.find_elements(By.ID, a.get_attribute("href").split("#")[1]) for a in contents)
    sources = [a.get_attribute("href") for a in browser.find_elements(By.LINK_TEXT, "source")]
    assert sources and all(href.split("#L")[-1].isdigit() for href in sources)


def test_stored_outputs_drop_stderr_widgets_and_temporary_folders(load_script):
    """`build_docs.py --store-outputs` keeps what a reader needs and nothing that changes from run to run."""
    import nbformat

    build_docs, new = load_script("build_docs"), nbformat.v4.new_output
    assert build_docs.stable_output(new("stream", name="stderr", text="UserWarning: ...\n")) is None
    bar = {"application/vnd.jupyter.widget-view+json": {"model_id": "1"}, "text/plain": "HBox(children=())"}
    assert build_docs.stable_output(new("display_data", data=bar)) is None  # tqdm.auto's bar
    tmp = str(Path(tempfile.gettempdir()) / "rl-test-ab12cd_9")
    said = build_docs.stable_output(new("stream", name="stdout", text=f"{tmp}/bad.yaml, line 2: x ({ROOT}/nbs)\n"))
    assert said.text == "…/bad.yaml, line 2: x (…/nbs)\n"
    shown = build_docs.stable_output(new("display_data", data={"text/html": f"<p>{tmp}</p>"}, metadata={"a": 1}))
    assert shown.data["text/html"] == "<p>…</p>" and shown.metadata == {}
    assert build_docs.stable_text(f"base64,AAA{tmp}") == f"base64,AAA{tmp}"  # an audio player's data is left alone
