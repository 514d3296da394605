"""The annotation app under a real uvicorn process on loopback, driven by a real headless Chromium (Selenium).

- The token flow: without an invitation every page says "sign in"; an invitation link signs in on
  *Start* (an HttpOnly cookie the page's scripts cannot read), a second link in the same browser
  switches annotator, opening a link again resumes; the owner's link opens the results, which an
  annotator's cookie cannot. Two annotators complete a small study whose pair ids would break a URL
  (`/ # ? %`), one reloads mid-way, and the export (with reasons and comments) equals what they did.
- The listen-first rule and the keyboard shortcuts: the choice stays closed until both answers were
  heard to the end (and the server refuses a client that skips it); P/A/B play, 1-7 choose, Enter sends.

Needs Debian's `chromium` and `chromium-driver` (apt-get install -y chromium chromium-driver): without
them this test FAILS with that message rather than skipping.
"""

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from test_annotate_server import PAIRS, SPEECHNB, Server, write_study

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

TEXT = {p["pair_id"]: (p.get("response_a", p.get("chosen")), p.get("response_b", p.get("rejected"))) for p in PAIRS}
BY_PROMPT = {p["prompt"]: p["pair_id"] for p in PAIRS}
# What each annotator means to prefer, by text ("tie" for a tie), and how strongly.
PLAN = {
    "ann1": {
        "egg/boil#1": (TEXT["egg/boil#1"][0], "much better"),
        "kenya?capital=%4E": (TEXT["kenya?capital=%4E"][1], "better"),
        "sky 100%": ("tie", "tie"),
        "check": (TEXT["check"][0], "much better"),
    },
    "ann2": {
        "egg/boil#1": (TEXT["egg/boil#1"][1], "slightly better"),
        "kenya?capital=%4E": (TEXT["kenya?capital=%4E"][1], "much better"),
        "sky 100%": ("tie", "tie"),
        "check": (TEXT["check"][1], "better"),
    },  # ann2 fails the attention check
}
STRENGTH = {"much better": 3, "better": 2, "slightly better": 1, "tie": 0}


@pytest.fixture
def browser(tmp_path):
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: install Debian's browser "
            "with `apt-get install -y chromium chromium-driver`"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=1200,1500",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(flag)
    # The driver path is given, so Selenium Manager has nothing to look up or download.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _serving(tmp_path, settings):
    "A running study with these settings, stopped afterwards."
    pairs, config = write_study(tmp_path, PAIRS, settings)
    running = Server(tmp_path, pairs, config).start()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def study(tmp_path):
    yield from _serving(tmp_path, "annotators_per_pair: 2\nreveal_text: true\nseed: 7\n")


@pytest.fixture
def quiet_study(tmp_path):
    yield from _serving(tmp_path, "annotators_per_pair: 1\nreveal_text: false\nseed: 3\n")


def _answers(db):
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT annotator, pair_id, preferred, strength, reasons, comment, played FROM answers ORDER BY answer_id"
        ).fetchall()


def _wait(driver, condition, seconds=20):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # the page replaces its card after each answer: an element found just before that goes stale; look again
    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def _by(how, what):
    from selenium.webdriver.common.by import By

    return getattr(By, how), what


def _open_link(driver, base, token, lands_on):
    "Open an invitation link and press Start, as a person would."
    driver.get(f"{base}/start#{token}")
    driver.find_element(*_by("ID", "start")).click()
    _wait(driver, lambda d: d.current_url == base + lands_on)


def _press(driver, keys):
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(keys).perform()


def _listen(driver):
    "Hear A and then B to the end with the keyboard (played 16x fast: the page only counts `ended`)."
    driver.execute_script(
        "document.querySelectorAll('audio').forEach(a => { a.defaultPlaybackRate = 16; a.playbackRate = 16; })"
    )
    for side in "AB":
        _press(driver, side.lower())
        _wait(driver, lambda d, side=side: d.find_element(*_by("ID", f"heard-{side}")).text == "heard")


def _current(driver):
    "(pair id, shown texts, header) of the item on screen, the pair found by its request text."
    text = {
        side: driver.find_element(*_by("ID", f"text-{side}")).get_attribute("textContent")
        for side in ("prompt", "A", "B")
    }
    return BY_PROMPT[text["prompt"]], text, driver.find_element(*_by("CSS_SELECTOR", ".card h2")).text


def _answer(driver, annotator, clicks):
    "Listen, then answer the item on screen as PLAN says, with a reason and a comment."
    pair_id, text, _ = _current(driver)
    wanted, strength = PLAN[annotator][pair_id]
    side = "tie" if wanted == "tie" else next(s for s in "AB" if text[s] == wanted)
    _listen(driver)
    driver.find_element(*_by("CSS_SELECTOR", f'input[name="verdict"][value="{side}|{strength}"]')).click()
    driver.find_element(*_by("CSS_SELECTOR", 'input[name="reasons"][value="concise"]')).click()
    driver.find_element(*_by("ID", "comment")).send_keys(f"{annotator} on {pair_id}")
    old_form = driver.find_element(*_by("ID", "answer-form"))
    driver.find_element(*_by("ID", "submit")).click()
    _wait(driver, lambda d: not _still_attached(old_form))  # the page reloads after a 201
    clicks.append((annotator, pair_id, wanted, strength))


def _still_attached(element):
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
        return True
    except StaleElementReferenceException:
        return False
    except WebDriverException as exc:
        # Chromium sometimes reports a node of the unloaded page as an inspector error, not as stale.
        if "does not belong to the document" in str(exc):
            return False
        raise


def _audio_checks(driver):
    "For each player on the page: (HTTP status, content type) of its source fetched with the page's cookie, duration."
    return driver.execute_async_script("""
        const done = arguments[0];
        Promise.all(Array.from(document.querySelectorAll('audio')).map(async (a) => {
          const r = await fetch(a.src);
          const duration = await new Promise((ok) => {
            a.addEventListener('loadedmetadata', () => ok(a.duration), {once: true});
            a.addEventListener('error', () => ok(-1), {once: true});
            a.load();
          });
          return [r.status, r.headers.get('content-type'), duration];
        })).then(done);""")


def _export(study, *flags):
    out = study.folder / f"export-{len(flags)}.jsonl"
    done = subprocess.run(
        [str(SPEECHNB), "annotate", "export", "--db", str(study.db), "--output", str(out), *flags],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_token_flow_and_a_small_study_in_a_real_browser(study, browser):
    base, db, shots = study.base, study.db, os.environ.get("SPEECHNB_SCREENSHOTS")
    tokens = study.invite("Ann1", "ann2")  # names are normalised: Ann1 -> ann1
    assert set(tokens) == {"ann1", "ann2"}

    # Without an invitation nothing opens, and an incomplete link says so.
    for path in ("/annotate", "/results"):
        browser.get(base + path)
        assert "invitation link" in browser.find_element(*_by("ID", "denied")).text or path == "/results"
    browser.get(base + "/start")
    assert (
        "incomplete" in browser.find_element(*_by("ID", "error")).text
        and not browser.find_element(*_by("ID", "start")).is_enabled()
    )
    assert _answers(db) == []

    # ann1 signs in with the link; the cookie is HttpOnly: the page's scripts cannot read it.
    _open_link(browser, base, tokens["ann1"], "/annotate")
    assert browser.execute_script("return document.cookie") == "" and tokens["ann1"] not in browser.current_url
    assert browser.find_element(*_by("ID", "annotator-name")).text == "ann1"
    checks = _audio_checks(browser)
    assert len(checks) == 3 and all(s == 200 and t == "audio/wav" and d > 0.5 for s, t, d in checks), checks
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(shots) / "annotation_page.png"))

    clicks = []
    _answer(browser, "ann1", clicks)
    before_pair, _, before_header = _current(browser)
    browser.find_element(*_by("CSS_SELECTOR", 'input[name="verdict"][value="A|better"]')).click()  # chosen, not sent
    browser.refresh()  # nothing was sent: same item again
    assert _current(browser)[0] == before_pair and _current(browser)[2] == before_header == "ITEM 2 OF 4"

    # ann2's link in the same browser switches annotator; ann2 does everything.
    _open_link(browser, base, tokens["ann2"], "/annotate")
    assert browser.find_element(*_by("ID", "annotator-name")).text == "ann2"
    while browser.find_elements(*_by("ID", "answer-form")):
        assert all(s == 200 and d > 0.5 for s, _, d in _audio_checks(browser))  # ids with / # ? % play as well
        _answer(browser, "ann2", clicks)
    assert browser.find_element(*_by("ID", "done")).is_displayed()

    # ann1's link again resumes exactly where ann1 was.
    _open_link(browser, base, tokens["ann1"], "/annotate")
    assert _current(browser)[0] == before_pair and _current(browser)[2] == "ITEM 2 OF 4"
    while browser.find_elements(*_by("ID", "answer-form")):
        _answer(browser, "ann1", clicks)
    assert len(clicks) == 8 and {(a, p) for a, p, *_ in clicks} == {(a, p) for a in PLAN for p in PLAN[a]}

    # An annotator cannot open the results; the owner's link can.
    browser.get(base + "/results")
    assert "owner" in browser.find_element(*_by("ID", "denied")).text
    _open_link(browser, base, study.owner_token, "/results")
    table = browser.find_element(*_by("ID", "annotators")).text
    assert "ann1" in table and "ann2" in table and "kenya?capital=%4E" in browser.find_element(*_by("ID", "pairs")).text
    if shots:
        browser.save_screenshot(str(Path(shots) / "results_page.png"))

    # Export (while the server runs): one row per judgement equals the clicks, reasons and comments included ...
    exported = {(r["annotator"], r["pair_id"]): r for r in _export(study, "--per-judgement", "--include-checks")}
    assert len(exported) == len(clicks)
    for annotator, pair_id, wanted, strength in clicks:
        row = exported[(annotator, pair_id)]
        assert (
            row["reasons"] == ["concise"]
            and row["comment"] == f"{annotator} on {pair_id}"
            and set(row["played"]) >= {"A", "B"}
        )
        if wanted == "tie":
            assert row["tie"] is True and row["preferred"] == "tie" and row["margin"] == 0
        else:
            assert (
                row["tie"] is False
                and row["chosen"] == wanted
                and row["rejected"] in TEXT[pair_id]
                and row["rejected"] != wanted
            )
            assert row["margin"] == row["strength"] == STRENGTH[strength]
    assert {r["annotator"]: r["annotator_check_pass_rate"] for r in exported.values()} == {"ann1": 1.0, "ann2": 0.0}
    # ... the aggregated export follows the majority rule, ties and agreement kept, checks left out ...
    rows = {r["pair_id"]: r for r in _export(study)}
    assert set(rows) == {"egg/boil#1", "kenya?capital=%4E", "sky 100%"}
    assert rows["egg/boil#1"]["tie"] is True and rows["egg/boil#1"]["agreement"] == 0.0  # split vote
    kenya = rows["kenya?capital=%4E"]
    assert kenya["chosen"] == TEXT["kenya?capital=%4E"][1] and kenya["margin"] == 2.5 and kenya["agreement"] == 1.0
    assert kenya["chosen_config"] == "icl" and kenya["split"] == "test" and len(kenya["judgements"]) == 2
    assert rows["sky 100%"]["tie"] is True and rows["sky 100%"]["agreement"] == 1.0
    # ... and --min-check-rate leaves out ann2, who failed the check.
    assert {r["annotator"] for r in _export(study, "--per-judgement", "--min-check-rate", "1")} == {"ann1"}
    assert study.process.poll() is None, "the server must still be running"


def test_listen_first_and_keyboard_shortcuts(quiet_study, browser):
    base, db = quiet_study.base, quiet_study.db
    _open_link(browser, base, quiet_study.invite("kim")["kim"], "/annotate")
    assert "1</kbd>–<kbd>7" in browser.find_element(*_by("ID", "shortcuts")).get_attribute("innerHTML")
    assert not browser.find_elements(*_by("ID", "text-A")) and not browser.find_elements(
        *_by("ID", "text-prompt")
    )  # reveal_text: false
    verdict = browser.find_element(*_by("CSS_SELECTOR", 'input[name="verdict"]'))  # a radio of the (disabled) scale
    submit = browser.find_element(*_by("ID", "submit"))
    assert (
        not verdict.is_enabled()
        and not submit.is_enabled()
        and browser.find_element(*_by("ID", "listen-hint")).is_displayed()
    )

    # Before listening: keys and clicks choose nothing, Enter sends nothing, and a script skipping the page is refused.
    _press(browser, "6")
    browser.find_element(*_by("CSS_SELECTOR", 'input[name="verdict"][value="B|better"]')).find_element(
        *_by("XPATH", "..")
    ).click()
    _press(browser, "\ue007")  # Enter
    assert browser.execute_script("return document.querySelector('input[name=verdict]:checked')") is None
    item = int(browser.find_element(*_by("ID", "answer-form")).get_attribute("data-item"))
    status = browser.execute_async_script(
        "fetch('/api/answers', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify("
        "{item: arguments[0], choice: 'A', strength: 'better', played: ['A']})}).then(r => arguments[1](r.status));",
        item,
    )
    assert status == 422 and _answers(db) == []

    # Typing a comment is not a shortcut; P, A and B play; after both answers ended the choice opens.
    browser.find_element(*_by("ID", "comment")).send_keys("a b p 1")
    assert browser.execute_script(
        "return Array.from(document.querySelectorAll('audio')).every(a => a.paused && a.currentTime === 0)"
    )
    browser.find_element(*_by("TAG_NAME", "h1")).click()  # focus back on the page
    _press(browser, "p")
    assert _wait(browser, lambda d: d.execute_script("return !document.getElementById('audio-prompt').paused"))
    _listen(browser)
    assert (
        verdict.is_enabled()
        and submit.is_enabled()
        and not browser.find_element(*_by("ID", "listen-hint")).is_displayed()
    )
    _press(browser, "6")  # 6 = B better
    assert browser.execute_script("return document.querySelector('input[name=verdict]:checked').value") == "B|better"
    _press(browser, "\ue007")
    _wait(browser, lambda d: len(_answers(db)) == 1)
    [(annotator, _, preferred, strength, _, comment, played)] = _answers(db)
    with sqlite3.connect(db) as con:
        swapped = con.execute(
            "SELECT swapped FROM assignments WHERE annotator = 'kim' AND position = ?", (item,)
        ).fetchone()[0]
    assert (annotator, strength, comment) == ("kim", 2, "a b p 1") and {"A", "B"} <= set(json.loads(played))
    assert preferred == ("a" if swapped else "b")  # B as heard, in the pairs file's terms
    _wait(browser, lambda d: d.find_element(*_by("CSS_SELECTOR", ".card h2")).text == "ITEM 2 OF 4")
