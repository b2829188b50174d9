"""A compliance officer in a real browser: log in, open "Compliance reports" from the navigation, download a PDF.

Headless Chromium from Debian's package (driven by Playwright with the system browser; nothing is
downloaded) against a real ``airflow api-server`` on loopback with the plugin installed, the lake on the moto
S3 server, the lake URI in a metastore Variable and a SimpleAuthManager viewer with a known password.

In CI (``CI=true``) this test must run: a missing Chromium fails it. Elsewhere it is skipped, with the
reason, only when /usr/bin/chromium is absent. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from airflow_provider_vobiz import config
from tests.fixtures.system import require
from tests.integration.test_plugin_api import ACCOUNT, write_sample_reports
from tests.support.servers import free_port, wait_for_http

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path(os.environ.get("VOBIZ_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USER = "officer"


def _require_chromium() -> None:
    require(
        CHROMIUM.exists(),
        f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install -y chromium) "
        "to run the browser test; .ci/run does this in CI",
    )


@dataclass
class ApiServer:
    url: str
    password: str
    home: Path
    log: Path


def _airflow_env(home: Path, port: int, s3_conn_json: str, vobiz_conn_json: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))
    }
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:viewer",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW_CONN_AWS_DEFAULT": s3_conn_json,
            "AIRFLOW_CONN_VOBIZ_DEFAULT": vobiz_conn_json,
            "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        }
    )
    return env


def _airflow(env: dict[str, str], *args: str) -> None:
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "airflow"), *args], env=env, check=True, capture_output=True, timeout=180)


@pytest.fixture(scope="module")
def lake_uri(s3_server) -> str:
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket)
    return f"s3://{bucket}/lake"


@pytest.fixture(scope="module")
def api_server(s3_server, lake_uri, _vobiz_simulator_session, tmp_path_factory) -> Iterator[ApiServer]:
    _require_chromium()
    home = tmp_path_factory.mktemp("airflow-ui-home")
    (home / "dags").mkdir()
    port = free_port()
    env = _airflow_env(home, port, s3_server.conn_json(), _vobiz_simulator_session.conn_json())
    password = secrets.token_urlsafe(12)
    # SimpleAuthManager keeps users' passwords in this file; a known one lets the browser log in.
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps({USER: password}) + "\n")
    _airflow(env, "db", "migrate")
    # The lake URI as an officer's deployment has it: a Variable in the metastore.
    _airflow(env, "variables", "set", config.VAR_LAKE_URI, lake_uri)
    log = home / "api-server.log"
    bin_dir = Path(sys.executable).parent
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                str(bin_dir / "airflow"),
                "api-server",
                "--port",
                str(port),
                "--host",
                "127.0.0.1",
                "--workers",
                "1",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (home / "api-server.pid").write_text(str(proc.pid))
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_http(f"{url}/api/v2/monitor/health", proc, timeout=120)
        except (ChildProcessError, TimeoutError) as err:
            raise RuntimeError(f"airflow api-server not healthy ({err}):\n{log.read_text()[-4000:]}") from err
        yield ApiServer(url=url, password=password, home=home, log=log)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(log, ARTIFACTS / "api-server.log")


@pytest.fixture(scope="module")
def sample(s3_server, lake_uri):
    return write_sample_reports(s3_server.client(), lake_uri)


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def test_anonymous_gets_no_page(api_server):
    r = httpx.get(f"{api_server.url}/compliance-reports/", timeout=10)
    assert r.status_code == 401
    assert "Compliance reports" not in r.text
    pdf = httpx.get(f"{api_server.url}/compliance-reports/reports/summary/{ACCOUNT}/2026-05/pdf", timeout=10)
    assert pdf.status_code == 401


def test_officer_logs_in_opens_the_page_and_downloads_a_pdf(
    api_server, sample, browser, tmp_path, _vobiz_simulator_session
):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 800}, accept_downloads=True)
    page = context.new_page()
    try:
        # 1. Log in through Airflow's own login page.
        page.goto(api_server.url + "/", wait_until="domcontentloaded")
        page.wait_for_selector("input[name=username]", timeout=60_000)
        page.fill("input[name=username]", USER)
        page.fill("input[name=password]", api_server.password)
        page.get_by_role("button", name="Sign in").click()

        # 2. Open the page from the navigation entry.
        nav = page.get_by_role("link", name="Compliance reports")
        nav.first.wait_for(timeout=60_000)
        nav.first.click()
        page.wait_for_url("**/plugin/compliance-reports", timeout=30_000)
        frame_el = page.wait_for_selector("iframe", timeout=30_000)
        frame = frame_el.content_frame()
        assert frame is not None
        frame.wait_for_selector("h1:has-text('Compliance reports')", timeout=30_000)

        # 3. What the officer sees: retention at a glance, summaries with their figures.
        text = frame.inner_text("main")
        assert "99.59%" in text, text[:2000]
        assert "30,480" in text and "48.0%" in text
        assert "warning" in text
        page.screenshot(path=str(ARTIFACTS / "compliance-reports.png"), full_page=True)

        # 4. Download the monthly PDF and check its bytes against the lake's object.
        link = frame.locator(f'a[download="trai_summary_{ACCOUNT}_2026-05.pdf"]')
        with page.expect_download(timeout=30_000) as info:
            link.click()
        download = info.value
        assert download.suggested_filename == f"trai_summary_{ACCOUNT}_2026-05.pdf"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        data = saved.read_bytes()
        key = sample.layout.summary_report_key(ACCOUNT, "2026-05", "pdf")
        assert data.startswith(b"%PDF-")
        assert hashlib.sha256(data).hexdigest() == sample.sha256(key)
        import pypdf

        assert f"TRAI summary {ACCOUNT} 2026-05" in pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()

        # 5. The DAG run link leads to the run's page in the Airflow UI (top window, not the frame).
        run_link = frame.locator("a[target=_top]", has_text="DAG run").first
        assert run_link.get_attribute("href") == (
            "/dags/vobiz_trai_summary/runs/scheduled__2026-06-01T00%3A00%3A00%2B00%3A00"
        )

        # 6. A complaint about one call: the diagnose box asks the Vobiz API (the simulator) about it.
        call = _vobiz_simulator_session.records()[0]
        frame.get_by_label("Call ID").fill(call["uuid"])
        frame.get_by_role("button", name="Diagnose").click()
        frame.wait_for_selector("#diagnosis", timeout=30_000)
        result = frame.inner_text("#diagnosis")
        assert f"Call {call['uuid']}" in result and "What it means" in result, result
        assert call["hangup_cause"] in result
        shown = frame.content()
        for field in ("caller_id_number", "destination_number"):
            assert not call[field] or call[field] not in shown
        page.screenshot(path=str(ARTIFACTS / "compliance-reports-diagnose.png"))

        # 7. The officer switches the Airflow UI to its dark theme: the embedded page follows.
        light_bg = frame.evaluate("() => getComputedStyle(document.body).backgroundColor")
        page.evaluate("() => localStorage.setItem('theme', 'dark')")
        page.reload(wait_until="domcontentloaded")
        frame = page.wait_for_selector("iframe", timeout=30_000).content_frame()
        frame.wait_for_selector("h1:has-text('Compliance reports')", timeout=30_000)
        assert page.evaluate("() => document.documentElement.classList.contains('dark')")
        frame.wait_for_function("() => document.documentElement.dataset.theme === 'dark'", timeout=10_000)
        dark_bg = frame.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert (light_bg, dark_bg) == ("rgb(255, 255, 255)", "rgb(17, 24, 39)")
        page.screenshot(path=str(ARTIFACTS / "compliance-reports-ui-dark.png"))
    finally:
        context.close()


#: WCAG contrast of every text element against its effective background; returns the failures.
CONTRAST_JS = """
() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const bg = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  for (const el of document.querySelectorAll("h1,h2,h3,p,th,td,a,label,button,.badge,dt,dd,caption,code")) {
    if (!el.textContent.trim() || el.closest(".sr-only")) continue;
    const fg = rgb(getComputedStyle(el).color).slice(0, 3);
    const [a, b] = [lum(fg), lum(bg(el))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (!(ratio >= 4.5)) bad.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return bad;
}
"""

#: Plain accessible HTML: a language, labelled fields, headed tables.
STRUCTURE_JS = """
() => {
  const bad = [];
  if (!document.documentElement.lang) bad.push("no lang");
  for (const el of document.querySelectorAll("input:not([type=hidden]), select")) {
    if (!el.labels || !el.labels.length) bad.push(`unlabelled ${el.name}`);
  }
  for (const t of document.querySelectorAll("table")) {
    if (!t.querySelector("thead th[scope=col]")) bad.push("table without column headers");
    if (!t.querySelector("caption") && !t.getAttribute("aria-labelledby")) bad.push("table without a name");
  }
  return bad;
}
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_page_themes_and_accessibility(api_server, sample, browser, scheme):
    """Standalone, the page follows prefers-color-scheme; every text stays readable on its background."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, color_scheme=scheme)
    page = context.new_page()
    try:
        token = httpx.post(
            f"{api_server.url}/auth/token",
            json={"username": USER, "password": api_server.password},
            timeout=30,
        ).json()["access_token"]
        context.add_cookies([{"name": "_token", "value": token, "url": api_server.url}])
        page.goto(f"{api_server.url}/compliance-reports/", wait_until="load")
        colors = page.evaluate(
            "() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]"
        )
        expected = {
            "dark": ["rgb(17, 24, 39)", "rgb(243, 244, 246)"],
            "light": ["rgb(255, 255, 255)", "rgb(26, 32, 44)"],
        }[scheme]
        assert colors == expected, colors
        assert page.evaluate(CONTRAST_JS) == []
        assert page.evaluate(STRUCTURE_JS) == []
        page.screenshot(path=str(ARTIFACTS / f"compliance-reports-{scheme}.png"), full_page=True)
        # Laptop width: nothing forces a horizontal scroll of the whole page.
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        context.close()


def test_downloads_are_streamed_not_buffered(api_server, s3_server, lake_uri):
    """A 64 MiB report passes through the api-server without growing it by anything like its size."""
    import psutil

    from airflow_provider_vobiz.lake.paths import LakeLayout

    layout = LakeLayout.from_uri(lake_uri)
    size = 64 * 1024 * 1024
    blob = b"%PDF-1.4\n" + os.urandom(size - 9)
    key = layout.summary_report_key("MA_BIG01", "2026-01", "pdf")
    s3_server.client().put_object(Bucket=layout.bucket, Key=key, Body=blob)
    digest = hashlib.sha256(blob).hexdigest()
    del blob

    token = httpx.post(
        f"{api_server.url}/auth/token", json={"username": USER, "password": api_server.password}, timeout=30
    ).json()["access_token"]
    leader = psutil.Process(int((api_server.home / "api-server.pid").read_text()))

    def rss() -> int:
        procs = [leader, *leader.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running())

    # Warm up first: the plugin builds its routes and S3 client on the first request, which is not streaming.
    httpx.get(
        f"{api_server.url}/compliance-reports/reports/summary/MA_BIG01/2026-01/json",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    before = rss()
    peak = before
    sha = hashlib.sha256()
    received = 0
    with httpx.stream(
        "GET",
        f"{api_server.url}/compliance-reports/reports/summary/MA_BIG01/2026-01/pdf",
        headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"},
        timeout=120,
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-length"] == str(size)
        for chunk in r.iter_raw(1024 * 1024):
            sha.update(chunk)
            received += len(chunk)
            peak = max(peak, rss())
    assert received == size and sha.hexdigest() == digest
    growth = peak - before
    print(
        f"api-server RSS before {before / 2**20:.1f} MiB, peak growth {growth / 2**20:.1f} MiB for {size / 2**20:.0f} MiB"
    )
    assert growth < size / 2, (
        f"api-server grew by {growth / 2**20:.1f} MiB while serving {size / 2**20:.0f} MiB"
    )
