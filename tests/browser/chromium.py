"""Headless Chromium for tests: load a page, let its scripts run, read what
it shows.

    dump_dom(url, budget_ms)   the page's DOM (HTML text) once its scripts ran
    screenshot(url, path)      a PNG of the page
    element_text(dom, id)      the text of the element with that id in a dump

Both run Debian's chromium (scripts/deps.sh, test set) once per call, with
a throwaway profile, and wait for the page with --virtual-time-budget:
virtual time only moves on while no request is pending, so the page's
fetches and timers up to budget_ms finish before the DOM is read, however
slow the machine. As root Chromium needs --no-sandbox; the pages are ours.
"""
import os
import shutil
import signal
import subprocess
import tempfile
from html.parser import HTMLParser

CHROMIUM = os.environ.get("CHROMIUM", "chromium")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    # Nothing but the page under test goes on the network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-pings",
    "--mute-audio",
]


class ChromiumError(RuntimeError):
    pass


def binary():
    path = shutil.which(CHROMIUM)
    if path is None:
        raise ChromiumError(f"{CHROMIUM} not found: install Debian's chromium (scripts/deps.sh test does)")
    return path


def run(args, timeout=120):
    """Runs Chromium with FLAGS, a fresh profile and args; returns its
    stdout. Its whole process group is gone when this returns."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        cmd = [binary(), *FLAGS, f"--user-data-dir={profile}", *args]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out, out, err = True, "", f"no answer within {timeout} s"
        finally:
            # Helpers (renderer, GPU, crash handler) share its session.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    if timed_out or proc.returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-15:])
        raise ChromiumError(f"{' '.join(cmd)}\nexit {proc.returncode}; stderr:\n{tail}")
    return out


def dump_dom(url, budget_ms=10000, timeout=120):
    """The DOM of url, serialised as HTML, after budget_ms of virtual time."""
    return run([f"--virtual-time-budget={budget_ms}", "--dump-dom", url], timeout)


def screenshot(url, path, width=1280, height=800, budget_ms=10000, timeout=120):
    """Saves a width x height PNG of url to path (after budget_ms of
    virtual time) and returns path."""
    path = os.path.abspath(path)
    if os.path.exists(path):
        os.unlink(path)
    run([f"--window-size={width},{height}", f"--virtual-time-budget={budget_ms}", f"--screenshot={path}",
         "--hide-scrollbars", url], timeout)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        raise ChromiumError(f"no screenshot written to {path}")
    return path


class _TextOf(HTMLParser):
    def __init__(self, element_id):
        super().__init__(convert_charrefs=True)
        self.element_id = element_id
        self.depth = 0  # > 0 inside the element
        self.found = False
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id:
            self.depth, self.found = 1, True

    def handle_startendtag(self, tag, attrs):
        if dict(attrs).get("id") == self.element_id:
            self.found = True

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def element_text(dom, element_id):
    """The text inside the element with this id (entities decoded), or None
    when the DOM has no such element."""
    parser = _TextOf(element_id)
    parser.feed(dom)
    parser.close()
    return "".join(parser.parts) if parser.found else None
