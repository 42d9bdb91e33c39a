"""Console benchmark: drives Debian's Chromium through chromium-driver (the W3C WebDriver
protocol, spoken here with the standard library) against a running stack, and prints each
figure's median over N samples beside the console's budget.

Usage: console.py URL SAMPLES   (deploy/bench-console.sh starts the stack and calls this)

Figures, all read from Chromium's own performance timeline:
  first load     initial JS+CSS bytes (compressed, as sent), first contentful paint, and the
                 workflows list interactive (its rows in the DOM), each in a fresh browser
                 session with an empty cache, signed in by cookie
  run detail     a 1,000-action run's page, from navigation to its graph and action list drawn
  editor graph   dagre's layout of a 200-action workflow (the console's User Timing measure),
                 and the slowest keystroke while typing into that workflow's YAML (Event Timing)
"""

import http.cookiejar
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

URL = sys.argv[1].rstrip("/")
SAMPLES = int(sys.argv[2]) if len(sys.argv) > 2 else 7
EMAIL = os.environ["FERROCAT_ADMIN_EMAIL"]
PASSWORD = os.environ["FERROCAT_ADMIN_PASSWORD"]
SESSION_COOKIE = "ferrocat_session"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """The stack's api, signed in as the admin."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        body = urllib.parse.urlencode({"username": EMAIL, "password": PASSWORD}).encode()
        self.http.open(urllib.request.Request(f"{URL}/api/auth/login", data=body, method="POST"))
        self.ws = self.call("GET", "/workspaces")[0]["id"]

    def call(self, method, path, body=None, content_type="application/json"):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        sep = "&" if "?" in path else "?"
        url = f"{URL}/api{path}" if path.startswith("/workspaces") else f"{URL}/api{path}{sep}workspace_id={getattr(self, 'ws', '')}"
        request = urllib.request.Request(url, data=data, method=method, headers={"content-type": content_type})
        with self.http.open(request) as response:
            text = response.read()
            return json.loads(text) if text else None

    def session_cookie(self):
        return next(c for c in self.jar if c.name == SESSION_COOKIE)

    def workflow(self, yaml_text, commit=True):
        created = self.call("POST", "/workflows", yaml_text.encode(), "application/yaml")
        if commit:
            self.call("POST", f"/workflows/{created['id']}/commit")
        return created["id"]


def tree_workflow(title, count):
    """`count` reshape actions in a binary tree: every action after the first depends on its parent."""
    lines = [f"title: {title}", "description: benchmark", "entrypoint: {ref: a0}", "actions:"]
    for i in range(count):
        lines += [f"  - ref: a{i}", "    action: core.transform.reshape"]
        if i:
            lines += ["    depends_on:", f"      - a{(i - 1) // 2}"]
        lines += ["    args:", f"      value: {{n: {i}, alert: '${{{{ TRIGGER.alert }}}}'}}"]
    return "\n".join(lines) + "\n"


class Driver:
    """chromium-driver in a process group of its own, and one headless session at a time."""

    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen(
            ["/usr/bin/chromedriver", f"--port={self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/status", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        self.session = None

    def close(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method, headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())["value"]

    def start(self):
        capabilities = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900"]}}}}
        self.session = self._call("POST", "/session", capabilities)["sessionId"]
        self._call("POST", f"/session/{self.session}/timeouts", {"script": 60000})

    def stop(self):
        self._call("DELETE", f"/session/{self.session}")

    def goto(self, path):
        self._call("POST", f"/session/{self.session}/url", {"url": f"{URL}{path}"})

    def cookie(self, name, value):
        self._call("POST", f"/session/{self.session}/cookie", {"cookie": {"name": name, "value": value, "path": "/"}})

    def js(self, script, *args):
        return self._call("POST", f"/session/{self.session}/execute/sync", {"script": script, "args": list(args)})

    def js_async(self, script, *args):
        return self._call("POST", f"/session/{self.session}/execute/async", {"script": script, "args": list(args)})

    def element(self, css):
        found = self._call("POST", f"/session/{self.session}/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))

    def click(self, css):
        self._call("POST", f"/session/{self.session}/element/{self.element(css)}/click", {})

    def type(self, css, text):
        self._call("POST", f"/session/{self.session}/element/{self.element(css)}/value", {"text": text})


# Resolves (with performance.now(), ms since navigation) once `test` holds, checked every frame.
WAIT_FOR = """
const [test, done] = [new Function(arguments[0]), arguments[arguments.length - 1]];
const check = () => (test() ? done(performance.now()) : requestAnimationFrame(check));
check();
"""


def signed_in(driver, api):
    """A fresh session (empty cache) carrying the api's session cookie."""
    driver.start()
    driver.goto("/api/health")
    cookie = api.session_cookie()
    driver.cookie(cookie.name, cookie.value)


def first_load(driver, api, rows):
    signed_in(driver, api)
    driver.goto(f"/workspaces/{api.ws}/workflows")
    interactive = driver.js_async(WAIT_FOR, f"return document.querySelectorAll('table[aria-label=Workflows] tbody tr').length >= {rows};")
    fcp = driver.js("const p = performance.getEntriesByName('first-contentful-paint')[0]; return p ? p.startTime : null;")
    sizes = driver.js(
        "return performance.getEntriesByType('resource').filter((r) => /\\.(js|css)$/.test(new URL(r.name).pathname)).map((r) => [r.name, r.encodedBodySize]);"
    )
    driver.stop()
    return interactive, fcp, sum(size for _, size in sizes), [name.rsplit("/", 1)[-1] for name, _ in sizes]


def run_detail(driver, api, exec_id):
    driver.goto(f"/workspaces/{api.ws}/runs/{exec_id}")
    return driver.js_async(WAIT_FOR, "return document.querySelector('.graph-node') && document.querySelectorAll('.action-card').length >= 100;")


def editor(driver, api, wf):
    driver.goto(f"/workspaces/{api.ws}/workflows/{wf}")
    drawn = driver.js_async(WAIT_FOR, "return document.querySelectorAll('.graph-node').length >= 200;")
    layout = driver.js(
        "return Math.max(...performance.getEntriesByName('ferrocat:graph-layout').filter((m) => m.detail && m.detail.actions === 200).map((m) => m.duration));"
    )
    # Typing: every keystroke's handling time as Event Timing records it (it records events
    # over 16 ms; none recorded means every one was faster).
    driver.js(
        "window.__slow = []; new PerformanceObserver((l) => window.__slow.push(...l.getEntries().map((e) => [e.duration, e.name])))"
        ".observe({type: 'event', durationThreshold: 16, buffered: false});"
    )
    driver.click(".cm-content")
    driver.type(".cm-content", "\ue009\ue011\ue000\ue010 under load")
    driver.js_async(WAIT_FOR, "return document.querySelector('h1') !== null;")
    time.sleep(0.5)  # Event Timing entries arrive after the frame they delay; let the last ones land.
    slowest = driver.js("return window.__slow.reduce((a, b) => (b[0] > a[0] ? b : a), [16, 'none over 16 ms']);")
    return drawn, layout, slowest[0], slowest[1]


def median(values):
    return statistics.median(values)


def main():
    api = Api()
    rows = 40
    print(f"seeding: {rows} workflows, a 200-action workflow, a 1,000-action run")
    for i in range(rows - 2):
        api.workflow(tree_workflow(f"Triage {i:02}", 3))
    wf200 = api.workflow(tree_workflow("Two hundred", 200))
    wf1000 = api.workflow(tree_workflow("One thousand", 1000))
    exec_id = api.call("POST", "/workflow-executions", {"workflow_id": wf1000, "inputs": {"alert": "A-1"}})["wf_exec_id"]
    for _ in range(600):
        if api.call("GET", f"/workflow-executions/{exec_id}")["status"] != "RUNNING":
            break
        time.sleep(0.5)
    detail = api.call("GET", f"/workflow-executions/{exec_id}")
    assert detail["status"] == "COMPLETED", detail["status"]
    assert len(detail["events"]) == 1000, len(detail["events"])

    driver = Driver()
    try:
        loads, warm = [], []
        for _ in range(SAMPLES):
            loads.append(first_load(driver, api, rows))
        driver.start()
        driver.goto("/api/health")
        cookie = api.session_cookie()
        driver.cookie(cookie.name, cookie.value)
        runs = [run_detail(driver, api, exec_id) for _ in range(SAMPLES)]
        edits = [editor(driver, api, wf200) for _ in range(SAMPLES)]
        driver.stop()
    finally:
        driver.close()

    def line(name, value, budget, unit):
        verdict = "within" if value <= budget else "OVER"
        print(f"  {name:<38} {value:>9.1f} {unit:<3} budget {budget:>6} {unit:<3} {value / budget:5.2f}x  {verdict}")

    print(f"console figures, medians of {SAMPLES} samples (loopback)")
    print(f"  initial files: {', '.join(loads[0][3])}")
    line("initial JS+CSS (compressed)", median([l[2] for l in loads]) / 1024, 250, "KB")
    line("first contentful paint", median([l[1] for l in loads]), 500, "ms")
    line("workflows list interactive", median([l[0] for l in loads]), 500, "ms")
    line("1,000-action run page drawn", median(runs), 1000, "ms")
    line("200-action graph layout", median([e[1] for e in edits]), 300, "ms")
    line("200-action editor, graph drawn", median([e[0] for e in edits]), 1000, "ms")
    line("slowest keystroke while typing", median([e[2] for e in edits]), 100, "ms")
    print(f"  slowest events while typing: {sorted({e[3] for e in edits})}")


if __name__ == "__main__":
    main()
