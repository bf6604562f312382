"""The /docs page in headless Chromium: Redoc renders every operation of
openapi.yaml from the server's own files, under the page's
Content-Security-Policy, without asking any other host for anything, and
its search works. Leaves a screenshot at tests/out/docs.png."""
import base64
import json
import os
import pathlib

import pytest
import yaml

from devtools import Chromium

API_URL = os.environ.get("API_URL", "http://127.0.0.1:18080")
ROOT = pathlib.Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "tests" / "out" / "docs.png"

# Runs before the page's own scripts: keeps every CSP violation the page meets.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""

# Redoc gives each operation a section data-section-id="operation/<operationId>"
# whose h2 is the operation's summary.
OPERATION_HEADINGS = """
Object.fromEntries([...document.querySelectorAll('[data-section-id^="operation/"]')].map(
    s => [s.dataset.sectionId.slice('operation/'.length), ((s.querySelector('h2') || {}).textContent || '').trim()]))
"""

SEARCH_RESULTS = """
[...document.querySelectorAll('[data-role="search:results"] li')].map(li => li.textContent)
"""


def operation_summaries():
    """{operationId: summary} of every operation in openapi.yaml."""
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    return {op["operationId"]: op["summary"]
            for item in spec["paths"].values() for op in item.values()
            if isinstance(op, dict) and "operationId" in op}


def wait_for_operations(browser, page, count):
    """Waits until Redoc shows count operations; returns their headings."""
    # Generous: a loaded machine or a sanitizer build of the server is slow.
    browser.wait_until(page, f"document.querySelectorAll('[data-section-id^=\"operation/\"]').length >= {count}",
                       timeout=120)
    return browser.evaluate(page, OPERATION_HEADINGS)


def save_screenshot(browser, page):
    png = base64.b64decode(browser.call("Page.captureScreenshot", {"format": "png"}, page)["data"])
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.write_bytes(png)
    return png


@pytest.fixture(scope="module")
def docs():
    """The page loaded in Chromium: (browser, page session, operation headings, screenshot)."""
    summaries = operation_summaries()
    with Chromium() as browser:
        page = browser.open_page()
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable", session=page)
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": 1280, "height": 2000, "deviceScaleFactor": 1, "mobile": False}, page)
        browser.call("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_CSP_VIOLATIONS}, page)
        browser.call("Page.navigate", {"url": API_URL + "/docs"}, page)
        headings = wait_for_operations(browser, page, len(summaries))
        png = save_screenshot(browser, page)
        yield browser, page, headings, png


def test_every_operation_is_rendered_with_its_summary(docs):
    _, _, headings, _ = docs
    summaries = operation_summaries()
    assert len(summaries) >= 48
    missing = {op: summary for op, summary in summaries.items() if headings.get(op) != summary}
    assert not missing, f"operations not rendered with their summary: {missing}"


def test_screenshot_shows_a_rendered_page(docs):
    _, _, _, png = docs
    assert png.startswith(b"\x89PNG")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1280, 2000)
    assert len(png) > 50_000  # a blank or error page compresses to a few kilobytes


def test_search_finds_an_operation(docs):
    browser, page, _, _ = docs
    summary = operation_summaries()["getFunnel"]
    browser.evaluate(page, "document.querySelector('input[placeholder=\"Search...\"]').focus()")
    browser.call("Input.insertText", {"text": "funnel"}, page)
    results = browser.wait_until(page, SEARCH_RESULTS, timeout=30)
    assert results and any(summary in r for r in results), results


# The checks below read everything the page did above, so they come last.

def test_page_requested_nothing_from_another_host(docs):
    browser, page, _, _ = docs
    urls = [e["request"]["url"] for e in browser.events_named("Network.requestWillBeSent", page)]
    assert API_URL + "/docs" in urls
    assert API_URL + "/openapi.yaml" in urls  # the recording works: the document came from us
    foreign = [u for u in urls if not u.startswith((API_URL + "/", "data:", "blob:"))]
    assert not foreign, foreign
    failed = browser.events_named("Network.loadingFailed", page)
    assert not failed, failed


def test_page_met_no_csp_violation_and_no_error(docs):
    browser, page, _, _ = docs
    assert browser.evaluate(page, "window.__cspViolations") == []
    errors = [e["entry"] for e in browser.events_named("Log.entryAdded", page) if e["entry"]["level"] == "error"]
    assert not errors, errors
    console = [e for e in browser.events_named("Runtime.consoleAPICalled", page) if e["type"] in ("error", "assert")]
    assert not console, console
    assert not browser.events_named("Runtime.exceptionThrown", page)
