"""The annotation app under a real uvicorn process on loopback, driven by a real headless Chromium (Selenium).

Two annotators complete a small study in two tabs, one reloads mid-way (before and after answering),
and the export must equal what they clicked; bad requests get 4xx and change nothing.
Needs Debian's `chromium` and `chromium-driver` (apt-get install -y chromium chromium-driver): without
them this test FAILS with that message rather than skipping.
"""
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEECHNB = Path(sys.executable).parent / "speechnb"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

PAIRS = [
    {"pair_id": "egg", "prompt_id": "q-egg", "prompt": "How long should I boil an egg?",
     "response_a": "About eight minutes for a firm yolk, then cool it in cold water.",
     "response_b": "1) Boil water (100 C). 2) Add egg. 3) Wait 8-10 min. 4) Cool -> peel.",
     "config_a": "detailed", "config_b": "base", "split": "train"},
    {"pair_id": "kenya", "prompt_id": "q-kenya", "prompt": "What is the capital of Kenya?",
     "chosen": "Nairobi (see https://en.wikipedia.org/wiki/Nairobi).", "rejected": "The capital of Kenya is Nairobi.",
     "chosen_config": "base", "rejected_config": "icl", "split": "test"},
    {"pair_id": "sky", "prompt_id": "q-sky", "prompt": "Why is the sky blue?",
     "response_a": "Sunlight scatters off air, and blue light scatters the most.",
     "response_b": "Air scatters blue sunlight more than red, so the sky looks blue.",
     "config_a": "base", "config_b": "detailed", "split": "validation"},
    {"pair_id": "check", "prompt": "Name a yellow fruit.", "response_a": "A banana is a yellow fruit.",
     "response_b": "Fruit fruit fruit fruit.", "attention_check": True, "expected": "a"},
]
TEXT = {p["pair_id"]: (p.get("response_a", p.get("chosen")), p.get("response_b", p.get("rejected"))) for p in PAIRS}
# What each annotator means to prefer, by text ("tie" for a tie), and how strongly.
PLAN = {
    "ann1": {"egg": (TEXT["egg"][0], "much better"), "kenya": (TEXT["kenya"][1], "better"), "sky": ("tie", "tie"),
             "check": (TEXT["check"][0], "much better")},
    "ann2": {"egg": (TEXT["egg"][1], "slightly better"), "kenya": (TEXT["kenya"][1], "much better"), "sky": ("tie", "tie"),
             "check": (TEXT["check"][1], "better")},   # ann2 fails the attention check
}
STRENGTH = {"much better": 3, "better": 2, "slightly better": 1, "tie": 0}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url, method="GET", body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("content-type", ""), exc.read()


@pytest.fixture
def server(tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(p) + "\n" for p in PAIRS))
    config = tmp_path / "study.yaml"
    config.write_text("name: browser test\nannotators_per_pair: 2\nreveal_text: true\nseed: 7\n")
    port = _free_port()
    db = tmp_path / "annotations.sqlite"
    log = open(tmp_path / "server.log", "w")
    process = subprocess.Popen([str(SPEECHNB), "annotate", "serve", "--db", str(db), "--pairs", str(pairs), "--config", str(config),
                                "--port", str(port), "--speech-cache", str(tmp_path / "speech")],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                if _request(base + "/")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.time() > deadline:
                raise AssertionError("server did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.2)
        yield {"base": base, "db": db, "tmp": tmp_path, "process": process}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def browser(tmp_path):
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: install Debian's browser with `apt-get install -y chromium chromium-driver`")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required", "--window-size=1200,1500", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    # The driver path is given, so Selenium Manager has nothing to look up or download.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _answers(db):
    with sqlite3.connect(db) as con:
        return con.execute("SELECT annotator, pair_id, preferred, strength, reasons, comment FROM answers ORDER BY answer_id").fetchall()


def _current(driver):
    from selenium.webdriver.common.by import By
    form = driver.find_element(By.ID, "answer-form")
    text = {side: driver.find_element(By.ID, f"text-{side}").get_attribute("textContent") for side in "AB"}
    header = driver.find_element(By.CSS_SELECTOR, ".card h2").text
    return form.get_attribute("data-pair"), text, header


def _answer(driver, annotator, clicks):
    "Answer the item on screen as PLAN says; return its pair id."
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    pair_id, text, _ = _current(driver)
    wanted, strength = PLAN[annotator][pair_id]
    side = "tie" if wanted == "tie" else next(s for s in "AB" if text[s] == wanted)
    driver.find_element(By.CSS_SELECTOR, f'input[name="verdict"][value="{side}|{strength}"]').click()
    driver.find_element(By.CSS_SELECTOR, 'input[name="reasons"][value="concise"]').click()
    driver.find_element(By.ID, "comment").send_keys(f"{annotator} on {pair_id}")
    old_form = driver.find_element(By.ID, "answer-form")
    driver.find_element(By.ID, "submit").click()
    WebDriverWait(driver, 15).until(lambda d: not _still_attached(old_form))   # the page reloads after a 201
    clicks.append((annotator, pair_id, wanted, strength))
    return pair_id


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


def test_two_annotators_complete_a_study_in_a_real_browser(server, browser):
    from selenium.webdriver.common.by import By
    base, db = server["base"], server["db"]
    shots = os.environ.get("SPEECHNB_SCREENSHOTS")
    # Annotator 1 starts from the front page; annotator 2 in a second tab.
    browser.get(base + "/")
    browser.find_element(By.ID, "name").send_keys("ann1")
    browser.find_element(By.ID, "start").click()
    assert browser.current_url.endswith("/annotate/ann1")
    tab1 = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(base + "/annotate/ann2")
    tab2 = browser.current_window_handle

    # The audio elements point at real WAV files (rendered by eSpeak NG on first request).
    sources = [a.get_attribute("src") for a in browser.find_elements(By.TAG_NAME, "audio")]
    assert len(sources) == 3
    for source in sources:
        status, content_type, body = _request(source)
        assert status == 200 and content_type == "audio/wav" and body[:4] == b"RIFF", (source, status, content_type)
    played = browser.execute_async_script(
        "const done = arguments[0]; const a = document.getElementById('audio-A');"
        "a.addEventListener('loadedmetadata', () => done(a.duration)); a.addEventListener('error', () => done(-1)); a.load();")
    assert played > 0.5, f"the browser could not decode response A's audio ({played})"
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = false)")
        browser.save_screenshot(str(Path(shots) / "annotation_page.png"))

    clicks = []
    # Both annotators alternate; ann2 reloads mid-way: once with a choice made but not sent, once right after answering.
    browser.switch_to.window(tab1)
    _answer(browser, "ann1", clicks)
    browser.switch_to.window(tab2)
    before_pair, _, before_header = _current(browser)
    browser.find_element(By.CSS_SELECTOR, 'input[name="verdict"][value="A|better"]').click()
    browser.refresh()                                                   # nothing was sent: same item again
    assert _current(browser)[0] == before_pair and _current(browser)[2] == before_header
    _answer(browser, "ann2", clicks)
    after_pair, _, after_header = _current(browser)
    browser.refresh()                                                   # resumes exactly where it was
    assert _current(browser)[0] == after_pair != before_pair and after_header == _current(browser)[2] == "ITEM 2 OF 4"
    assert len(_answers(db)) == 2

    for _ in range(3):
        browser.switch_to.window(tab1)
        _answer(browser, "ann1", clicks)
    for _ in range(3):
        browser.switch_to.window(tab2)
        if browser.find_elements(By.ID, "answer-form"):
            _answer(browser, "ann2", clicks)
    for tab in (tab1, tab2):
        browser.switch_to.window(tab)
        assert browser.find_element(By.ID, "done").is_displayed(), "annotator should be done"
    assert len(clicks) == 8 and {(a, p) for a, p, *_ in clicks} == {(a, p) for a in PLAN for p in PLAN[a]}

    # Each annotator saw their own order.
    with sqlite3.connect(db) as con:
        orders = {a: [p for (p,) in con.execute("SELECT pair_id FROM assignments WHERE annotator = ? ORDER BY position", (a,))]
                  for a in PLAN}
    assert sorted(orders["ann1"]) == sorted(orders["ann2"]) == sorted(TEXT)

    # Bad requests: 4xx and nothing changes.
    before = _answers(db)
    good = {"annotator": "ann1", "pair_id": "egg", "choice": "A", "strength": "better"}
    for body, raw, status in [(good, None, 409), (good | {"pair_id": "no-such-pair"}, None, 404),
                              (good | {"annotator": "mallory"}, None, 403), (good | {"strength": "best"}, None, 422),
                              (None, b'{"annotator": "ann1", ', 422), (None, b"[1, 2, 3]", 422)]:
        got = _request(base + "/api/answers", "POST", body, raw)[0]
        assert got == status, (body, raw, got)
    assert _request(base + "/audio/ann1/no-such-pair/A.wav")[0] == 404
    assert _answers(db) == before

    # The results page shows the study.
    browser.get(base + "/results")
    table = browser.find_element(By.ID, "annotators").text
    assert "ann1" in table and "ann2" in table and "4" in table
    checks = json.loads(_request(base + "/api/stats")[2])
    assert checks["judgements"] == 8 and checks["check_pass_rate"] == 0.5
    if shots:
        browser.save_screenshot(str(Path(shots) / "results_page.png"))

    # Export (while the server runs): one row per judgement equals the clicks ...
    out = server["tmp"] / "judgements.jsonl"
    done = subprocess.run([str(SPEECHNB), "annotate", "export", "--db", str(db), "--output", str(out), "--per-judgement",
                           "--include-checks"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    exported = {(r["annotator"], r["pair_id"]): r for r in map(json.loads, out.read_text().splitlines())}
    assert len(exported) == len(clicks)
    for annotator, pair_id, wanted, strength in clicks:
        row = exported[(annotator, pair_id)]
        if wanted == "tie":
            assert row["tie"] is True and row["margin"] == 0
        else:
            assert row["tie"] is False and row["chosen"] == wanted and row["rejected"] in TEXT[pair_id] and row["rejected"] != wanted
            assert row["margin"] == STRENGTH[strength]
    # ... and the aggregated export follows the majority rule, ties and agreement kept, checks left out.
    out = server["tmp"] / "pairs.jsonl"
    done = subprocess.run([str(SPEECHNB), "annotate", "export", "--db", str(db), "--output", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = {r["pair_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"egg", "kenya", "sky"}
    assert rows["egg"]["tie"] is True and rows["egg"]["agreement"] == 0.0            # split vote
    assert rows["kenya"]["chosen"] == TEXT["kenya"][1] and rows["kenya"]["margin"] == 2.5 and rows["kenya"]["agreement"] == 1.0
    assert rows["kenya"]["chosen_config"] == "icl" and rows["kenya"]["split"] == "test"
    assert rows["sky"]["tie"] is True and rows["sky"]["agreement"] == 1.0
    assert all(r["source"] == "annotation" and r["annotator_count"] == 2 for r in rows.values())
    assert server["process"].poll() is None, "the server must still be running"
