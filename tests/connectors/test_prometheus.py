"""The Prometheus connector against recorded API responses served from a loopback server.

prometheus-api-client talks through requests, not the injected httpx client, so an
httpx.MockTransport cannot intercept it: the recorded payloads (tests/fixtures/prometheus,
written from the Prometheus HTTP API v1 envelope) come from a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from cockpit import config as cockpit_config
from cockpit.clock import FixedClock
from cockpit.connect import options as opt
from cockpit.errors import ConfigError, Rejected, Unauthorized, Unreachable
from cockpit.model import BurnWindow, Canary, CanaryMetrics, CanaryPhase
from cockpit.testing import ConnectorContract
from connectors.prometheus import PrometheusConnector, PrometheusOptions
from connectors.prometheus.connector import MAX_POINTS, auto_step, window
from connectors.prometheus.options import range_duration

FIXTURES = Path(__file__).parent.parent / "fixtures" / "prometheus"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
TOKEN = "prom-t0ken-s3cret"
ERROR_RATIO = 'sum(rate(http_requests_total{service="{service}",code=~"5..",{selector}}[1m]))'
LATENCY = 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{version="{version}"}[1m])))'
ERRORS = 'sum(increase(http_errors_total{service="{service}",{selector}}[{window}]))'
TOTAL = 'sum(increase(http_requests_total{service="{service}",{selector}}[{window}]))'
BURN: dict[str, Any] = {"slo": 0.999, "errors": ERRORS, "total": TOTAL}
# The recorded counts (tests/fixtures/prometheus/instant): a canary failing 2 % of requests.
COUNTS = {
    300: (23.0768, 1187.9554),
    1800: (146.0812, 7142.3977),
    3600: (291.3343, 14390.0417),
    21600: (1720.8866, 86011.4012),
    259200: (1768.0, 88214.0),
}

Answer = tuple[int, bytes]


def recorded(name: str, status: int = 200) -> Answer:
    return status, (FIXTURES / name).read_bytes()


def by_track(params: dict[str, str]) -> Answer:
    """Healthy answers: the recorded baseline or canary matrix, by the query's selector."""
    side = "canary" if 'track="canary"' in params["query"] else "baseline"
    return recorded(f"matrix_{side}.json")


def window_of(params: dict[str, str]) -> str:
    found = re.search(r"\[(\w+)\]\)\)\Z", params["query"])
    assert found, params["query"]
    return found.group(1)


def kind_of(params: dict[str, str]) -> str:
    return "errors" if "http_errors_total" in params["query"] else "total"


def by_window(params: dict[str, str]) -> Answer:
    """The recorded instant answer of an errors or total query, by the window it asks for."""
    return recorded(f"instant/{kind_of(params)}_{window_of(params)}.json")


class FakePrometheus:
    """A loopback HTTP server answering /api/v1/query_range with what a test chooses."""

    def __init__(self) -> None:
        self.answer: Callable[[dict[str, str]], Answer] = by_track  # /api/v1/query_range
        self.instant: Callable[[dict[str, str]], Answer] = by_window  # /api/v1/query
        self.requests: list[tuple[dict[str, str], dict[str, str]]] = []
        self.instants: list[dict[str, str]] = []  # the params of each /api/v1/query
        self.release = threading.Event()  # lets a deliberately slow answer finish
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake.requests.append((params, dict(self.headers)))
                if parts.path == "/api/v1/query_range":
                    status, body = fake.answer(params)
                elif parts.path == "/api/v1/query":
                    fake.instants.append(params)
                    status, body = fake.instant(params)
                else:
                    status, body = 404, b"404 page not found\n"
                if status == 0:  # a server that never answers in time
                    fake.release.wait(10)
                    status, body = 200, b"{}"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (a sibling query failed and closed the session)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # A short poll interval keeps shutdown() (which waits for the next poll) quick.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FakePrometheus:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def prom() -> Iterator[FakePrometheus]:
    with FakePrometheus() as fake:
        yield fake


def config(url: str, **extra: Any) -> dict[str, Any]:
    metrics = [
        {"name": "error ratio", "query": ERROR_RATIO, "critical": True, "group": "errors"},
        {"name": "p99 latency", "query": LATENCY, "unit": "s", "weight": 40, "group": "latency"},
    ]
    target = {"service": "checkout", "environment": "prod", "metrics": metrics}
    return {"url": url, "canaries": [target], **extra}


def connector(data: dict[str, Any], env: dict[str, str] | None = None) -> PrometheusConnector:
    options = opt.parse(PrometheusOptions, data, env=env or {})
    for secret in opt.secrets_of(options):
        secret.resolve(env or {})
    return PrometheusConnector("prom", options, client=None, clock=FixedClock(NOW))


def known_canary(age: timedelta = timedelta(minutes=30), **kw: Any) -> Canary:
    fields: dict[str, Any] = {
        "service": "checkout",
        "environment": "prod",
        "baseline_version": "1.4.2",
        "canary_version": "1.5.0",
        "step": 2,
        "steps": 6,
        "weight": 25,
        "phase": CanaryPhase.PROGRESSING,
        "started_at": NOW - age,
        "source": "rollouts",
        "observed_at": NOW,
    }
    return Canary(**{**fields, **kw})


async def measure(c: PrometheusConnector, *canaries: Canary) -> CanaryMetrics:
    c.known_canaries = canaries or (known_canary(),)
    try:
        (result,) = await c.metrics()
    finally:
        await c.aclose()
    return result


async def test_healthy_series_are_joined_on_one_time_axis(prom: FakePrometheus) -> None:
    result = await measure(connector(config(prom.url)))
    assert (result.service, result.environment, result.source) == ("checkout", "prod", "prom")
    assert (result.baseline_version, result.canary_version) == ("1.4.2", "1.5.0")
    assert result.error == ""
    errors, latency = result.metrics
    assert errors.name == "error ratio" and errors.critical and errors.group == "errors"
    assert latency.unit == "s" and latency.weight == 40 and latency.direction == "increase"
    assert len(errors.times) == 8 and errors.times[0] == datetime(
        2026, 1, 15, 11, 58, 15, tzinfo=UTC
    )
    assert errors.baseline[:3] == (0.0101, 0.0098, 0.0104)
    # The canary missed one scrape: NaN at that instant, not a shifted series.
    assert math.isnan(errors.canary[3]) and errors.canary[4] == 0.0101


async def test_queries_cover_the_canary_lifetime_with_rendered_templates(
    prom: FakePrometheus,
) -> None:
    await measure(connector(config(prom.url, timeout="2s")))
    queries = sorted(params["query"] for params, _ in prom.requests)
    assert queries[0].startswith(
        'histogram_quantile(0.99, sum by (le) (rate(x_bucket{version="1.4.2"}'
    )
    assert 'code=~"5..",track="baseline"}[1m]' in queries[2]
    params = prom.requests[0][0]
    assert params["step"] == "15"
    assert int(params["end"]) == NOW.timestamp() and int(params["start"]) == NOW.timestamp() - 1800
    assert params["timeout"] == "2s"


async def test_without_a_known_canary_the_lookback_is_queried_and_versions_wait(
    prom: FakePrometheus,
) -> None:
    c = connector(config(prom.url, lookback="10m"))
    c.known_canaries = (known_canary(phase=CanaryPhase.PROMOTED),)  # finished: not known
    (result,) = await c.metrics()
    await c.aclose()
    errors, latency = result.metrics
    assert len(errors.baseline) == 8
    assert latency.baseline == () and latency.canary == ()
    assert result.error == "p99 latency: no canary versions known yet"
    params = prom.requests[0][0]
    assert int(params["end"]) - int(params["start"]) == 600 and params["step"] == "5"


async def test_an_empty_result_is_no_data_not_an_error(prom: FakePrometheus) -> None:
    prom.answer = lambda p: recorded("empty.json") if "canary" in p["query"] else by_track(p)
    result = await measure(connector(config(prom.url)))
    errors = result.metrics[0]
    assert errors.canary == () and len(errors.baseline) == 8 == len(errors.times)
    assert result.error == ""


async def test_nan_and_infinities_are_kept_as_floats(prom: FakePrometheus) -> None:
    prom.answer = lambda p: recorded("nan_inf.json")
    series = (await measure(connector(config(prom.url)))).metrics[0]
    assert math.isnan(series.canary[0]) and series.canary[1:] == (math.inf, -math.inf, 0.2473)


@pytest.mark.parametrize(
    ("fixture", "status", "said"),
    [
        ("bad_data.json", 400, 'bad_data: invalid parameter "query": 1:8: parse error'),
        ("execution.json", 422, "execution: query processing would load too many samples"),
        ("multi_series.json", 200, "returned 2 series; aggregate it to one"),
    ],
)
async def test_a_refused_query_spoils_only_its_own_metric(
    prom: FakePrometheus, fixture: str, status: int, said: str
) -> None:
    def answer(params: dict[str, str]) -> Answer:
        return (
            recorded(fixture, status)
            if "http_requests_total" in params["query"]
            else by_track(params)
        )

    prom.answer = answer
    result = await measure(connector(config(prom.url)))
    errors, latency = result.metrics
    assert errors.baseline == () == errors.canary  # a critical metric without data never passes
    assert len(latency.canary) == 8
    assert result.error.startswith("error ratio: ") and said in result.error


@pytest.mark.parametrize(
    ("answer", "error", "said"),
    [
        (recorded("timeout.json", 503), Unreachable, "503: server error: timeout: query timed out"),
        ((500, b"upstream connect error"), Unreachable, "500: server error: upstream connect"),
        (
            (502, b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"),
            Unreachable,
            "502: server error: HTML page '502 Bad Gateway'",
        ),
        ((401, b"Unauthorized\n"), Unauthorized, "401: credentials refused"),
        ((403, b"Forbidden\n"), Unauthorized, "403: forbidden"),
        ((200, b'{"status":"success","data":{"resultType":"matr'), Unreachable, "malformed JSON"),
        ((200, b'{"status":"success"}'), Unreachable, "without data.result"),
    ],
)
async def test_server_failures_map_onto_the_error_tree(
    prom: FakePrometheus, answer: Answer, error: type[Exception], said: str
) -> None:
    prom.answer = lambda p: answer
    with pytest.raises(error, match="prom: ") as caught:
        await measure(connector(config(prom.url)))
    assert said in str(caught.value)


async def test_a_slow_server_times_out(prom: FakePrometheus) -> None:
    prom.answer = lambda p: (0, b"")
    with pytest.raises(Unreachable, match=r"timed out after 0\.2s"):
        await measure(connector(config(prom.url, timeout="200ms")))


async def test_a_wrong_base_url_is_rejected(prom: FakePrometheus) -> None:
    with pytest.raises(Rejected, match="404: is url the Prometheus base URL"):
        await measure(connector(config(prom.url + "/graph")))


async def test_nobody_listening_is_unreachable() -> None:
    with FakePrometheus() as fake:
        url = fake.url  # bound once, then closed: nothing listens there any more
    with pytest.raises(Unreachable, match="cannot connect"):
        await measure(connector(config(url)))


async def test_bearer_token_is_sent_and_never_echoed(prom: FakePrometheus) -> None:
    prom.answer = lambda p: (401, f"bad token {TOKEN}\x1b[2J".encode())
    c = connector(config(prom.url, bearer_token="env:PROM_TOKEN"), env={"PROM_TOKEN": TOKEN})
    with pytest.raises(Unauthorized) as caught:
        await measure(c)
    assert prom.requests[0][1]["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(caught.value) and "\x1b" not in str(caught.value)
    assert "bad token ***^[[2J" in str(caught.value)


async def test_basic_auth_is_sent(prom: FakePrometheus) -> None:
    data = config(prom.url, username="cockpit", password="env:PROM_PASSWORD")
    await measure(connector(data, env={"PROM_PASSWORD": "hunter2"}))
    assert prom.requests[0][1]["Authorization"] == "Basic Y29ja3BpdDpodW50ZXIy"


def test_auto_step_gives_60_to_150_points() -> None:
    for span in range(60, 7 * 86400, 97):
        points = span / auto_step(span)
        assert 60 <= points <= 150, span


def test_window_is_capped_aligned_and_within_the_point_limit() -> None:
    options = opt.parse(PrometheusOptions, {"url": "http://p:9090", "max_window": "1h"})
    now = NOW + timedelta(seconds=7)
    start, end, step = window(now, NOW - timedelta(hours=5), options)
    assert (end - start, step) == (timedelta(hours=1), 30)
    assert end == NOW  # on the step grid, not at the odd second
    start, end, step = window(NOW, NOW - timedelta(seconds=3), options)
    assert end - start == timedelta(minutes=1)  # a young canary: its last minute
    tiny = opt.parse(PrometheusOptions, {"url": "http://p:9090", "step": "1s", "lookback": "1d"})
    start, end, step = window(NOW, None, tiny)
    assert (end - start).total_seconds() / step <= MAX_POINTS


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"query": "up{{selectr}}"}, "unknown placeholder {selectr}"),
        ({"query": 'up{service="{service}"}'}, "must tell baseline from canary"),
        ({"weight": 140}, "weight must be between 0 and 100"),
        ({"min": 2, "max": 1}, "min is above max"),
    ],
)
def test_bad_metric_definitions_are_refused_at_load(change: dict[str, Any], said: str) -> None:
    data = config("http://p:9090")
    data["canaries"][0]["metrics"][0].update(change)
    with pytest.raises(ConfigError, match=r"canaries\[0\]\.metrics\[0\]") as caught:
        opt.parse(PrometheusOptions, data)
    assert said in str(caught.value)


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"bearer_token": "env:T", "username": "u", "password": "env:P"}, "choose one of"),
        ({"username": "u"}, "needs both username and password"),
        ({"url": "https://u:p@prom.example"}, "not in the url"),
        ({"bearer_token": "s3cret-value"}, "never as the value itself"),
    ],
)
def test_bad_connection_options_are_refused(extra: dict[str, Any], said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        opt.parse(PrometheusOptions, {**config("http://p:9090"), **extra})


def test_versions_from_outside_cannot_break_out_of_a_label_value() -> None:
    options = opt.parse(PrometheusOptions, config("http://p:9090"))
    target = options.canaries[0]
    _, canary = target.queries(target.metrics[1], "1.4.2", '1.5"} or vector(1) #')
    assert 'version="1.5\\"} or vector(1) #"' in canary


def test_weights_belong_to_groups() -> None:
    data = config("http://p:9090")
    data["canaries"][0]["metrics"].append(
        {"name": "p50", "query": LATENCY, "group": "latency", "weight": 20}
    )
    with pytest.raises(ConfigError, match="metrics of group 'latency' give different weights"):
        opt.parse(PrometheusOptions, data)


class TestPrometheusContract(ConnectorContract):
    """The contract kit, with the recorded answers served from the loopback server."""

    connector_class = PrometheusConnector
    now = NOW

    @pytest.fixture(autouse=True)
    def _served(self, prom: FakePrometheus) -> None:
        self.prom = prom

    @property
    def options(self) -> dict[str, Any]:  # the server's port is known only at run time
        return config(self.prom.url)


def test_recorded_payloads_use_the_api_envelope() -> None:
    paths = sorted(FIXTURES.glob("**/*.json"))
    assert len(paths) > 20
    for path in paths:
        body = json.loads(path.read_text())
        assert body["status"] in ("success", "error"), path.name
        if body["status"] == "error":
            assert body["errorType"] in ("bad_data", "execution", "timeout") and body["error"]
            continue
        data = body["data"]
        if path.parent.name == "instant":  # /api/v1/query: a vector, or a bare scalar
            assert data["resultType"] in ("vector", "scalar"), path.name
            samples = (
                [data["result"]]
                if data["resultType"] == "scalar"
                else [s["value"] for s in data["result"]]
            )
        else:
            assert data["resultType"] == "matrix", path.name
            samples = [v for s in data["result"] for v in s["values"]]
        assert all(isinstance(t, int | float) and isinstance(v, str) for t, v in samples), path


# SLO burn windows -------------------------------------------------------------------------
def burning(url: str, **burn: Any) -> dict[str, Any]:
    data = config(url)
    data["canaries"][0]["burn"] = {**BURN, **burn}
    return data


async def test_burn_windows_are_counted_at_the_poll_instant(prom: FakePrometheus) -> None:
    result = await measure(connector(burning(prom.url, slo=0.995)))
    assert result.slo == 0.995 and result.error == ""
    assert result.burn == tuple(BurnWindow(s, e, t) for s, (e, t) in COUNTS.items())
    assert len(result.metrics) == 2 and len(result.metrics[0].canary) == 8, "series as before"
    sent = sorted(p["query"] for p in prom.instants)
    assert len(sent) == 10
    for span in ("5m", "30m", "1h", "6h", "3d"):
        for counter in ("http_errors_total", "http_requests_total"):
            query = f'sum(increase({counter}{{service="checkout",track="canary"}}[{span}]))'
            assert query in sent
    # Every window at the same instant, the clock's now, with Prometheus's own timeout.
    assert {(p["time"], p["timeout"]) for p in prom.instants} == {("1768478400", "5s")}


async def test_configured_windows_and_version_selectors_are_rendered(
    prom: FakePrometheus,
) -> None:
    data = burning(prom.url, windows=["1h", "90m", 300])
    data["canaries"][0]["canary_selector"] = 'version="{canary_version}"'
    prom.instant = lambda p: (
        recorded("instant/empty.json") if window_of(p) == "90m" else by_window(p)
    )
    result = await measure(connector(data))
    assert sorted(p["query"] for p in prom.instants if kind_of(p) == "errors") == [
        f'sum(increase(http_errors_total{{service="checkout",version="1.5.0"}}[{w}]))'
        for w in ("1h", "5m", "90m")
    ]
    assert [w.seconds for w in result.burn] == [3600, 300], "90m had no data: left out"


async def test_a_window_without_data_is_left_out(prom: FakePrometheus) -> None:
    prom.instant = lambda p: (
        recorded("instant/empty.json")
        if window_of(p) == "6h" and kind_of(p) == "errors"
        else by_window(p)
    )
    result = await measure(connector(burning(prom.url)))
    assert [w.seconds for w in result.burn] == [300, 1800, 3600, 259200]
    assert result.error == "", "no data is not an error"


@pytest.mark.parametrize("fixture", ["nan.json", "inf.json"])
async def test_nan_or_infinite_counts_are_left_out(prom: FakePrometheus, fixture: str) -> None:
    prom.instant = lambda p: (
        recorded(f"instant/{fixture}")
        if window_of(p) == "5m" and kind_of(p) == "total"
        else by_window(p)
    )
    result = await measure(connector(burning(prom.url)))
    assert [w.seconds for w in result.burn] == [1800, 3600, 21600, 259200]


async def test_a_scalar_answer_is_a_count(prom: FakePrometheus) -> None:
    prom.instant = lambda p: recorded("instant/scalar.json")
    result = await measure(connector(burning(prom.url, windows=["1h"])))
    assert result.burn == (BurnWindow(3600, 14390.0417, 14390.0417),)


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (
            recorded("bad_data.json", 400),
            'query refused (400): bad_data: invalid parameter "query"',
        ),
        (recorded("execution.json", 422), "query refused (422): execution: query processing"),
        (recorded("instant/two_series.json"), "returned 2 series; aggregate it to one"),
    ],
)
async def test_a_refused_burn_query_spoils_the_burn_check_only(
    prom: FakePrometheus, answer: Answer, said: str
) -> None:
    prom.instant = lambda p: answer if kind_of(p) == "errors" else by_window(p)
    result = await measure(connector(burning(prom.url)))
    assert result.burn == () and result.slo == 0.999, "no window without its errors"
    assert result.error.startswith(f"burn errors: {said}")
    assert result.error.count("burn errors") == 1, "said once, not once per window"
    assert len(result.metrics[0].canary) == 8, "the series are still reported"


async def test_a_failing_server_fails_the_poll_from_a_burn_query(prom: FakePrometheus) -> None:
    prom.instant = lambda p: recorded("timeout.json", 503)
    with pytest.raises(Unreachable, match=r"prom: /api/v1/query -> 503: server error: timeout"):
        await measure(connector(burning(prom.url)))


async def test_burn_queries_needing_versions_wait_for_a_known_canary(
    prom: FakePrometheus,
) -> None:
    data = burning(prom.url, errors=ERRORS.replace("{selector}", 'v="{version}"'))
    c = connector(data)
    c.known_canaries = ()
    (result,) = await c.metrics()
    await c.aclose()
    assert result.burn == () and result.error.endswith("; burn: no canary versions known yet")
    assert prom.instants == []


async def test_without_a_burn_section_nothing_changes(prom: FakePrometheus) -> None:
    result = await measure(connector(config(prom.url)))
    assert (result.slo, result.burn, prom.instants) == (None, (), [])


def test_range_durations_use_the_largest_exact_unit() -> None:
    cases = {300: "5m", 1800: "30m", 3600: "1h", 5400: "90m", 21600: "6h", 259200: "3d", 90: "90s"}
    assert {s: range_duration(s) for s in cases} == cases


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            {"errors": "sum(increase(e{{selector}}[{windw}]))"},
            "errors: unknown placeholder {windw}",
        ),
        ({"total": "sum(increase(r{{selector}}[5m]))"}, "total: the query must use {window}"),
        ({"slo": 99.9}, "slo must be a fraction between 0 and 1"),
        ({"slo": 1}, "slo must be a fraction between 0 and 1"),
        ({"windows": ["5m", "300s"]}, "each window may be given only once"),
        ({"windows": ["1500ms"]}, "1.5s is not a whole number of seconds"),
        ({"windows": []}, "give at least one window"),
        ({"window": ["5m"]}, "unknown key 'window'; did you mean 'windows'?"),
    ],
)
def test_bad_burn_sections_are_refused_at_load(change: dict[str, Any], said: str) -> None:
    data = burning("http://p:9090", **change)
    with pytest.raises(ConfigError, match=r"canaries\[0\]\.burn") as caught:
        opt.parse(PrometheusOptions, data)
    assert said in str(caught.value)


def test_a_bad_burn_template_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "cockpit.yaml"
    path.write_text(
        "environments: [prod]\n"
        "connectors:\n"
        "  - name: prom\n"
        "    type: prometheus\n"
        "    options:\n"
        "      url: http://prometheus:9090\n"
        "      canaries:\n"
        "        - service: checkout\n"
        "          environment: prod\n"
        "          metrics: [{name: errors, query: 'e{{selector}}'}]\n"
        "          burn:\n"
        "            slo: 0.999\n"
        "            errors: sum(increase(e{{selector}}[{window}]))\n"
        "            total: sum(increase(r{{selector}}[{windw}]))\n"
    )
    with pytest.raises(ConfigError) as caught:
        cockpit_config.load(str(path), env={})
    error = caught.value
    assert (error.file, error.line) == (str(path), 11)  # the `burn:` mapping
    assert error.field == "connectors[0].options.canaries[0].burn"
    assert error.message.startswith("total: unknown placeholder {windw}")


def test_the_documented_example_loads(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs/connectors/prometheus.md").read_text()
    (example,) = re.findall(r"```yaml\n(.*?)```", doc, re.S)
    path = tmp_path / "cockpit.yaml"
    path.write_text(example)
    settings = cockpit_config.load(str(path), env={}, resolve_secrets=False)
    (spec,) = settings.connectors
    checkout, payments = spec.options.canaries
    assert checkout.burn is not None and payments.burn is None
    assert checkout.burn.slo == 0.999 and checkout.burn.windows == [300, 1800, 3600, 21600, 259200]
    errors, total = checkout.burn_queries(checkout.burn, 300, "1.4.2", "1.5.0")
    assert errors == (
        'sum(increase(http_requests_total{service="checkout",code=~"5..",track="canary"}[5m]))'
        " or vector(0)"
    )
    assert total == 'sum(increase(http_requests_total{service="checkout",track="canary"}[5m]))'
