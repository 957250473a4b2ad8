"""The built book in a real browser, offline: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) driven by selenium opens every page of ``_toc.yml`` from ``file://``, as a
reader who downloaded ``_build/html`` would, with every request to another host blocked.

For each page: it loads with no console error and requests nothing but its own files, each once;
MathJax has typeset every formula (no raw TeX left on screen); nothing is wider than the window;
moving each control of each precomputed interactive figure changes the figure. The search page
finds results offline and ``index.html`` leads to the first page. Screenshots of every page (top)
and of every interactive figure, light and dark, go to ``_build/screenshots/`` for review. Last, a
local JupyterLab runs the interactive-figures page: there the same output is the live widget,
and moving its slider runs minigrad.

``make test`` installs the browser (apt-get, as root) and runs this after the book build. Without
the browser these tests are skipped, except on CI (``CI`` set), where they fail.
"""

import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from test_book import HTML, ROOT, _ensure_book_built, _toc_files

SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
TOC_PAGES = list(_toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))))
# Raw TeX that MathJax leaves in place when it has not run or failed: delimiters and environments.
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{")
LOAD_TIMEOUT = 60

# Every text node a reader sees, except code (which may legitimately show TeX, e.g. plot labels).
VISIBLE_TEXT_JS = """
const skip = 'pre, code, script, style, textarea, noscript, mjx-container, .highlight';
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const texts = [];
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const parent = node.parentElement;
  if (!parent || parent.closest(skip) || !node.textContent.trim()) continue;
  if (!parent.getClientRects().length) continue;        // not rendered (display: none)
  texts.push(node.textContent);
}
return texts;
"""
MATHJAX_DONE_JS = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !window.MathJax.startup || !window.MathJax.startup.promise) { done('none'); }
else { MathJax.startup.promise.then(() => done('typeset'), (e) => done('error: ' + e)); }
"""


def _browser_missing():
    missing = [name for name, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)) if not path]
    if not missing:
        return None
    return (f"{' and '.join(missing)} not found: the browser tests need Debian's chromium and "
            f"chromium-driver (`make test` installs them when run as root; otherwise run "
            f"`sudo apt-get install chromium chromium-driver`)")


@pytest.fixture(scope="module")
def driver():
    reason = _browser_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason + " - CI must run the browser tests", pytrace=False)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    _ensure_book_built()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--hide-scrollbars", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--disable-extensions", "--disable-default-apps",
                     # no name resolves: a request for another host fails (and is logged)
                     "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Both paths are given, so selenium never looks for (or downloads) a driver of its own.
    browser = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    browser.set_page_load_timeout(LOAD_TIMEOUT)
    browser.set_script_timeout(LOAD_TIMEOUT)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*"]})
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield browser
    browser.quit()


def _open(driver, url):
    """Load a page, wait for MathJax; return the console messages logged so far on it."""
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(url)
    mathjax = driver.execute_async_script(MATHJAX_DONE_JS)
    assert not mathjax.startswith("error"), f"{url}: MathJax failed: {mathjax}"
    return mathjax


def _errors(driver):
    return [f"{entry['level']}: {entry['message'][:300]}" for entry in driver.get_log("browser")
            if entry["level"] in ("SEVERE", "ERROR")]


def _set_theme(driver, theme):
    driver.execute_script("""
        localStorage.setItem('mode', arguments[0]);
        localStorage.setItem('theme', arguments[0]);
        document.documentElement.dataset.theme = arguments[0];
        document.documentElement.dataset.mode = arguments[0];""", theme)


def _interactive_figures_in(source):
    """How many code cells of a page's source call interactive_figure."""
    import jupytext

    path = next(p for p in (ROOT / f"{source}.md", ROOT / f"{source}.ipynb", ROOT / source) if p.is_file())
    if path.suffix not in {".md", ".ipynb"}:
        return 0
    cells = jupytext.read(path).cells
    return sum(c.cell_type == "code" and "interactive_figure(" in c.source for c in cells)


def _scroll_to(driver, element):
    """Scroll the element to the top of the window, below the theme's sticky header."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'}); window.scrollBy(0, -70);", element)


def _figure_source(element):
    return element.find_element("css selector", "img.mgf-image").get_attribute("src")


def _move(driver, control):
    """Move one control of a precomputed figure as a reader would (keyboard, click, menu)."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", control)
    kind = control.tag_name.lower(), (control.get_attribute("type") or "").lower()
    if kind == ("input", "range"):
        at_end = control.get_attribute("value") == control.get_attribute("max")
        control.send_keys(Keys.ARROW_LEFT if at_end else Keys.ARROW_RIGHT)
    elif kind == ("input", "checkbox"):
        control.click()
    elif kind[0] == "select":
        menu = Select(control)
        current = int(menu.first_selected_option.get_attribute("index"))
        menu.select_by_index((current + 1) % len(menu.options))
    else:
        raise AssertionError(f"unknown control <{kind[0]} type={kind[1]}>")


@pytest.mark.parametrize("source", TOC_PAGES)
def test_page_offline(driver, source):
    name = Path(source).with_suffix("").as_posix()
    url = (HTML / f"{name}.html").as_uri()
    _open(driver, url)
    slug = name.replace("/", "-")
    driver.save_screenshot(str(SHOTS / f"{slug}-light.png"))

    loaded = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name);")
    foreign = [u for u in loaded if not u.startswith(("file://", "data:", "blob:"))]
    assert not foreign, f"{name}: requests to other sites: {foreign}"
    local = [u.split("?")[0] for u in loaded if u.startswith("file://")]
    twice = sorted({u for u in local if local.count(u) > 1})
    assert not twice, f"{name}: files loaded more than once: {twice}"

    raw = [t.strip()[:120] for t in driver.execute_script(VISIBLE_TEXT_JS) if RAW_TEX.search(t)]
    assert not raw, f"{name}: raw TeX visible (MathJax did not typeset it): {raw[:5]}"
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
    assert overflow <= 1, f"{name}: the page is {overflow}px wider than the window"

    figures = driver.find_elements("css selector", "div.mgf")
    expected = _interactive_figures_in(source)
    assert len(figures) == expected, f"{name}: {expected} interactive figures in the source, {len(figures)} on the page"
    for number, figure in enumerate(figures, start=1):
        assert figure.get_attribute("data-mgf-ready"), f"{name}: figure {number}'s script did not run"
        image = figure.find_element("css selector", "img.mgf-image")
        assert driver.execute_script("return arguments[0].naturalWidth > 0 && "
                                     "arguments[0].getBoundingClientRect().right <= "
                                     "document.documentElement.clientWidth;", image), \
            f"{name}: figure {number} is not shown or overflows the page"
        controls = figure.find_elements("css selector", "[data-mgf-index]")
        assert controls, f"{name}: figure {number} has no control"
        _scroll_to(driver, figure)
        driver.save_screenshot(str(SHOTS / f"{slug}-figure{number}-light.png"))
        for control in controls:
            before = _figure_source(figure)
            _move(driver, control)
            assert _figure_source(figure) != before, \
                f"{name}: figure {number}: moving {control.get_attribute('id')} did not change the figure"

    _set_theme(driver, "dark")
    driver.execute_script("window.scrollTo(0, 0);")
    driver.save_screenshot(str(SHOTS / f"{slug}-dark.png"))
    for number, figure in enumerate(figures, start=1):
        _scroll_to(driver, figure)
        driver.save_screenshot(str(SHOTS / f"{slug}-figure{number}-dark.png"))
    _set_theme(driver, "light")

    errors = _errors(driver)
    assert not errors, f"{name}: console errors:\n" + "\n".join(errors)


def test_index_leads_to_the_first_page(driver):
    _open(driver, (HTML / "index.html").as_uri())
    driver.implicitly_wait(0)
    from selenium.webdriver.support.ui import WebDriverWait

    root = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))["root"]
    WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith(f"{root}.html"))
    assert not _errors(driver)


def test_search_works_offline(driver):
    from selenium.webdriver.support.ui import WebDriverWait

    _open(driver, (HTML / "search.html").as_uri() + "?q=gradient")
    # Sphinx fills the list one result at a time and writes its summary ("Search finished, found
    # N pages ...") only at the end: wait for the summary, then read the whole list.
    WebDriverWait(driver, 30).until(lambda d: "found" in " ".join(
        e.text for e in d.find_elements("css selector", "#search-results .search-summary")).lower())
    results = driver.find_elements("css selector", "#search-results ul.search li")
    titles = " ".join(item.text for item in results).lower()
    assert "gradient" in titles, f"search for 'gradient' found: {titles[:300]}"
    driver.save_screenshot(str(SHOTS / "search-light.png"))
    errors = _errors(driver)
    assert not errors, "search page console errors:\n" + "\n".join(errors)


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on a free local port serving the interactive-figures page as a notebook."""
    import jupytext

    jupytext.write(jupytext.read(ROOT / "book" / "interactive.md"), tmp_path / "demo.ipynb", fmt="ipynb")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(tmp_path / "lab.log", "w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter-lab"), "--no-browser", "--allow-root",
         f"--port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.token=",
         "--ServerApp.password=", f"--ServerApp.root_dir={tmp_path}"],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://localhost:{port}"  # the browser resolves no other name (not even IPs)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_in_jupyterlab_the_figure_is_live(driver, jupyterlab):
    """The same output shows the live widget in JupyterLab (not the precomputed page version),
    and moving its slider to a value that was not precomputed runs minigrad and redraws."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})  # the local server only:
    try:                                                           # other hosts stay unresolvable
        driver.get(f"{jupyterlab}/lab/tree/demo.ipynb")
        WebDriverWait(driver, 90).until(   # the kernel has started
            lambda d: "Idle" in d.find_element("css selector", ".jp-StatusBar-Widget, #jp-main-statusbar").text)
        cells = driver.find_elements("css selector", ".jp-Notebook .jp-Cell")
        cells[0].click()
        for _ in cells:   # run every cell: Shift+Enter, as a reader would
            ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
        try:
            image = WebDriverWait(driver, 120).until(
                lambda d: d.find_elements("css selector", ".jupyter-widgets img.widget-image"))[0]
        except Exception:
            driver.save_screenshot(str(SHOTS / "jupyterlab-failed.png"))
            raise
        assert not driver.find_elements("css selector", ".jp-OutputArea .mgf"), \
            "JupyterLab shows the precomputed version instead of the live widget"
        status = driver.find_element("css selector", ".jupyter-widgets .widget-html").text
        assert status.startswith("live"), status
        before = image.get_attribute("src")
        handle = driver.find_element("css selector", ".widget-slider .noUi-handle")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", handle)
        handle.click()
        handle.send_keys(Keys.ARROW_RIGHT)   # 0.5 -> 0.55: not among the precomputed values
        WebDriverWait(driver, 60).until(
            lambda d: d.find_element("css selector", ".jupyter-widgets img.widget-image").get_attribute("src") != before)
        readout = driver.find_element("css selector", ".widget-slider .widget-readout").text
        assert readout == "0.55", readout
        image = driver.find_element("css selector", ".jupyter-widgets img.widget-image")
        WebDriverWait(driver, 20).until(lambda d: d.execute_script(
            "arguments[0].scrollIntoView({block: 'center'}); "
            "return arguments[0].complete && arguments[0].naturalWidth > 0;", image))
        # what the widget shows, read back from the browser (a headless screenshot of a blob
        # image in JupyterLab is not reliably painted): a drawn figure, kept for review
        dark, total, png = driver.execute_async_script("""
            const img = arguments[0], done = arguments[1], canvas = document.createElement('canvas');
            img.decode().then(() => {
            canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
            const context = canvas.getContext('2d'); context.drawImage(img, 0, 0);
            const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
            let dark = 0;
            for (let i = 0; i < rgba.length; i += 4) if (rgba[i] + rgba[i + 1] + rgba[i + 2] < 600) dark++;
            done([dark, canvas.width * canvas.height, canvas.toDataURL('image/png')]);
            }, (error) => done([0, 1, 'data:,' + error]));""", image)
        (SHOTS / "jupyterlab-live-figure.png").write_bytes(base64.b64decode(png.split(",", 1)[1]))
        assert dark > 0.005 * total, f"the live figure is nearly blank ({dark} of {total} pixels drawn)"
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*"]})
