#!/usr/bin/env python
"""Screenshots of built docs pages in headless Chromium, to look at what a reader sees (after `make docs`).

Writes, for each page, `_docs/screenshots/<name>.png` (the first screen, 1400x1000) and `<name>-full.png` (the whole
page, cut at --max-height), and prints what the browser measured: the page's width against the window's (sideways
scroll), elements inside <main> wider than the column, images that did not load, and any request that left file://
and data: (there must be none). Nothing reaches an outside host: the chromedriver is named explicitly, every host name
resolves to nothing and Chromium's background services are off.

Usage: scripts/docs_screenshots.py [PAGE ...] (paths relative to _docs/; default: index, judge, the first experiment)
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "_docs"
WIDTH, HEIGHT = 1400, 1000

# What the browser reports about a page: run in the page, returns a JSON-able dict.
MEASURE = """
const main = document.querySelector('main') || document.body;
const column = main.clientWidth;
const wide = [];
for (const el of main.querySelectorAll('*')) {
  const box = el.getBoundingClientRect();
  const scrolls = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible';
  if (box.width > column + 1 && !el.closest('.table-wrap, .output, pre')) {
    wide.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + ' ' + Math.round(box.width) + 'px');
  } else if (scrolls) {
    wide.push('(scrolls inside) ' + el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
  }
}
const broken = [...document.images].filter(img => !img.complete || img.naturalWidth === 0).map(img => img.alt);
const outside = performance.getEntriesByType('resource').map(r => r.name)
  .filter(url => !url.startsWith('file:') && !url.startsWith('data:'));
return {title: document.title, page_width: document.documentElement.scrollWidth, window_width: window.innerWidth,
        page_height: document.documentElement.scrollHeight, wide: wide.slice(0, 15), wide_count: wide.length,
        broken_images: broken, outside_requests: outside,
        tables: main.querySelectorAll('table').length, figures: main.querySelectorAll('img').length,
        outputs: main.querySelectorAll('.output *').length,
        sidebar: !!document.querySelector('aside.sidebar'),
        contents: document.querySelectorAll('aside.contents li').length};
"""


def browser(driver_path: str, chromium: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # no host name resolves: nothing can leave the machine
        f"--user-data-dir={tempfile.mkdtemp(prefix='speechnb-chrome-')}",
        f"--window-size={WIDTH},{HEIGHT}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver_path), options=options)


def default_pages() -> list[str]:
    experiments = sorted((DOCS / "experiments").glob("*.html"))
    return ["index.html", "judge.html", f"experiments/{experiments[0].name}" if experiments else "reports.html"]


def shoot(driver, page: str, out: Path, max_height: int) -> dict:
    "The first screen and the whole page of `page` as PNGs in `out`; returns what the browser measured."
    name = page.removesuffix(".html").replace("/", "-")
    driver.set_window_size(WIDTH, HEIGHT)
    driver.get((DOCS / page).as_uri())
    facts = driver.execute_script(MEASURE)
    driver.save_screenshot(str(out / f"{name}.png"))
    height = min(facts["page_height"], max_height)
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}},
    )
    (out / f"{name}-full.png").write_bytes(base64.b64decode(shot["data"]))
    return {"page": page, **facts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="pages relative to _docs/ (default: index, judge, an experiment)")
    parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--max-height", type=int, default=6000, help="the full-page shots stop here (pixels)")
    args = parser.parse_args()
    if not (DOCS / "index.html").is_file():
        sys.exit("no _docs/index.html: build the site first (make docs)")
    out = DOCS / "screenshots"
    out.mkdir(exist_ok=True)
    driver = browser(args.chromedriver, args.chromium)
    try:
        for page in args.pages or default_pages():
            print(json.dumps(shoot(driver, page, out, args.max_height), indent=1))
    finally:
        driver.quit()
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
