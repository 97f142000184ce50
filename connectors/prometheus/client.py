"""Range and instant queries through prometheus-api-client, off the event loop, errors mapped.

The client is `PrometheusConnect` from prometheus-api-client, as the issue asks. It is
synchronous and built on requests, so every query runs in `asyncio.to_thread` and never
goes through the cockpit's injected httpx client (the connector declares USES_HTTP =
False). Its failures arrive as `PrometheusApiClientException` (any non-200) or requests
exceptions; both are mapped here onto `cockpit.errors`, with short, cleaned messages.
"""

from __future__ import annotations

import ast
import asyncio
import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import requests
from prometheus_api_client import PrometheusApiClientException
from prometheus_api_client.prometheus_connect import PrometheusConnect
from urllib3.util.retry import Retry

from cockpit.connect.http_errors import page_summary, transport_failure
from cockpit.connect.http_safety import size_words
from cockpit.errors import ConnectorError, RateLimited, Rejected, Unauthorized, Unreachable
from cockpit.sanitize import clean

CONCURRENCY = 4  # queries in flight per connector: threads are shared with the whole app
MAX_RESPONSE_BYTES = 32 * 1024 * 1024  # as the httpx connectors' default cap
_STATUS = re.compile(r"HTTP Status Code (\d+) \((.*)\)\Z", re.S)

Points = list[tuple[float, float]]


class QueryProblem(Rejected):
    """Prometheus refused this one query (bad PromQL, execution error, too many series).

    The other metrics are still worth fetching, so the connector records it per metric
    instead of failing the whole poll.
    """


class Queries:
    """One Prometheus server, asked for one series per query."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        timeout: float,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        network: Mapping[str, Any] | None = None,
        secrets: tuple[str, ...] = (),
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes  # read by each response as it arrives
        self._secrets = tuple(s for s in secrets if s)
        # No retries inside the thread: the hub retries a failed poll with jittered
        # backoff, and a retry loop here would hold the poll past its timeout.
        # Typed loosely: the client annotates these as non-optional and timeout as int,
        # while requests takes None and float seconds.
        # `network` is cockpit.connect.http_tls.requests_settings: verify (CA file), cert, proxies.
        session = requests.Session()
        for key, value in (network or {}).items():
            setattr(session, key, value)
        session.hooks["response"].append(_capped(lambda: self.max_response_bytes))
        settings: dict[str, Any] = {"headers": headers, "auth": auth, "timeout": timeout}
        self._prom = PrometheusConnect(
            url=url.rstrip("/"),
            retry=Retry(total=0, read=False),
            session=session,
            **settings,
        )
        self._limit = asyncio.Semaphore(CONCURRENCY)

    async def series(self, query: str, start: datetime, end: datetime, step: float) -> Points:
        """The samples of the query's only series; empty when it has no data."""

        def fetch() -> Any:
            return self._prom.custom_query_range(
                query, start_time=start, end_time=end, step=f"{step:g}", params=self._params()
            )

        return self._one_series(await self._run("query_range", fetch))

    async def value(self, query: str, at: datetime) -> float | None:
        """The query's only value at `at` (NaN kept); None when it has no data."""
        params = {**self._params(), "time": unix(at)}
        result = await self._run("query", lambda: self._prom.custom_query(query, params=params))
        return self._one_value(result)

    def close(self) -> None:
        self._prom.close()

    def _params(self) -> dict[str, str]:
        # Prometheus abandons the evaluation too, instead of finishing it for nobody.
        return {"timeout": f"{self.timeout:g}s"}

    async def _run(self, endpoint: str, fetch: Callable[[], Any]) -> Any:
        async with self._limit:
            return await asyncio.to_thread(self._fetch, endpoint, fetch)

    def _fetch(self, endpoint: str, fetch: Callable[[], Any]) -> Any:
        where = f"{self.name}: /api/v1/{endpoint}"
        try:
            return fetch()
        except PrometheusApiClientException as exc:
            raise self._http_error(where, str(exc)) from None
        except TooLarge as exc:
            raise Unreachable(f"{where}: {exc}; the query asks for too much") from None
        except requests.exceptions.JSONDecodeError:
            raise Unreachable(f"{where} returned malformed JSON") from None
        except requests.Timeout:
            raise Unreachable(f"{where} timed out after {self.timeout:g}s") from None
        except (requests.exceptions.SSLError, requests.exceptions.ProxyError) as exc:
            raise Unreachable(f"{where}: {transport_failure(exc)}") from None
        except requests.ConnectionError:
            raise Unreachable(f"{where}: cannot connect") from None
        except requests.RequestException as exc:
            raise Unreachable(f"{where} failed: {type(exc).__name__}") from None
        except (KeyError, TypeError):
            raise Unreachable(f"{where} answered without data.result") from None

    def _http_error(self, where: str, message: str) -> ConnectorError:
        m = _STATUS.match(message)
        status = int(m.group(1)) if m else 0
        detail = self._detail(m.group(2)) if m else ""
        said = f": {detail}" if detail else ""
        if status in (400, 422):
            return QueryProblem(f"query refused ({status}){said}")
        if status == 401:
            return Unauthorized(f"{where} -> 401: credentials refused{said}")
        if status == 403:
            return Unauthorized(f"{where} -> 403: forbidden{said}")
        if status == 429:
            return RateLimited(f"{where} -> 429: rate limited", retry_after=None)
        if status == 404:
            return Rejected(f"{where} -> 404: is url the Prometheus base URL?")
        if status >= 499:
            return Unreachable(f"{where} -> {status}: server error{said}")
        return Rejected(f"{where} -> {status or 'unexpected answer'}{said}")

    def _detail(self, body_repr: str) -> str:
        """Prometheus's own words from an error body: `errorType: error`, cleaned and short."""
        # The client puts repr(response.content) in its message; read the bytes back.
        try:
            raw = ast.literal_eval(body_repr) if len(body_repr) < 100_000 else b""
        except (ValueError, SyntaxError):
            return ""
        if not isinstance(raw, bytes):
            return ""
        text = raw.decode("utf-8", "replace").strip()
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            kind = body.get("errorType")
            text = f"{kind}: {body['error']}" if isinstance(kind, str) else body["error"]
        elif text.startswith("<"):  # a proxy's or load balancer's error page
            text = page_summary(text)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return clean(text, limit=240)

    def _one_series(self, result: Any) -> Points:
        if not isinstance(result, list):
            raise Unreachable(f"{self.name}: query_range result is not a list")
        if not result:
            return []
        if len(result) > 1:
            raise QueryProblem(
                f"returned {len(result)} series; aggregate it to one (sum, avg, max...)"
            )
        item = result[0]
        if not isinstance(item, dict) or "values" not in item:
            if isinstance(item, dict) and "histograms" in item:
                raise QueryProblem("returned native histograms; use histogram_quantile()")
            raise Unreachable(f"{self.name}: query_range series has no values")
        try:
            # Values are strings so that "NaN", "+Inf" and "-Inf" survive JSON; float()
            # reads all three, and NaN is kept for the judge's NaN strategy.
            return [(float(ts), float(value)) for ts, value in item["values"]]
        except (TypeError, ValueError):
            raise Unreachable(f"{self.name}: query_range returned a malformed sample") from None

    def _one_value(self, result: Any) -> float | None:
        if not isinstance(result, list):
            raise Unreachable(f"{self.name}: query result is not a list")
        if len(result) == 2 and isinstance(result[1], str):
            sample = result  # a scalar result is a bare [time, "value"]
        elif not result:
            return None
        elif len(result) > 1:
            raise QueryProblem(
                f"returned {len(result)} series; aggregate it to one (sum, avg, max...)"
            )
        elif isinstance(result[0], dict) and "value" in result[0]:
            sample = result[0]["value"]
        elif isinstance(result[0], dict) and "histogram" in result[0]:
            raise QueryProblem("returned a native histogram; use histogram_count() or sum()")
        else:
            raise Unreachable(f"{self.name}: query returned a series without a value")
        try:
            return float(sample[1])
        except (TypeError, ValueError, IndexError):
            raise Unreachable(f"{self.name}: query returned a malformed sample") from None


def unix(at: datetime) -> str:
    """An instant as Unix seconds for the API, to the millisecond, without trailing zeros."""
    seconds = math.floor(at.timestamp() * 1000) / 1000
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


class TooLarge(requests.RequestException):
    """A response body went past the cap (requests, unlike httpx here, has none of its own)."""


class _CappedBody:
    """The response's raw body, read through a byte count that stops at the cap."""

    def __init__(self, raw: Any, limit: int) -> None:
        self._raw = raw
        self._limit = limit

    def stream(self, chunk_size: int, decode_content: bool = True) -> Any:
        seen = 0
        for chunk in self._raw.stream(chunk_size, decode_content=decode_content):
            seen += len(chunk)
            if seen > self._limit:
                self._raw.close()
                raise TooLarge(f"response larger than {size_words(self._limit)}")
            yield chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def _capped(limit: Callable[[], int]) -> Callable[..., requests.Response]:
    """A response hook: the body is read (after the hooks) through `_CappedBody`, at the cap
    in force when the response arrives."""

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        response.raw = _CappedBody(response.raw, limit())
        return response

    return hook
