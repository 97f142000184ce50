"""A failed HTTP answer as a cockpit error: which kind, when to retry, and a short safe message."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

import httpx

from cockpit.errors import ConnectorError, RateLimited, Rejected, Unauthorized, Unreachable
from cockpit.sanitize import clean

# An error page's title or first words are near its top; the rest is not parsed.
_PAGE_READ = 64 * 1024


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or X-RateLimit-Reset (epoch)."""
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        reset = headers.get(name)
        left = headers.get(name.replace("reset", "remaining"), "0").strip()
        if left.isdigit() and int(left) > 0:
            # Budget left: the reset does not explain this refusal (GitHub's secondary
            # limits), so the caller picks its own wait.
            continue
        if reset and reset.strip().isdigit():
            seconds = float(reset)
            # GitHub sends an epoch; IETF drafts and GitLab's RateLimit-Reset may send delta.
            return max(0.0, seconds - now) if seconds > 1e9 else seconds
    return None


def http_error(where: str, resp: httpx.Response, detail: str, wait: float | None) -> ConnectorError:
    """The error for a 4xx/5xx answer; `where` names the call, `detail` is the body's message."""
    status = resp.status_code
    limited = status == 429 or (
        status == 403
        and (
            resp.headers.get("x-ratelimit-remaining") == "0"
            or "retry-after" in resp.headers
            or "rate limit" in detail.lower()
        )
    )
    if limited:
        when = f"; retry in {wait:.0f}s" if wait is not None else ""
        return RateLimited(f"{where}: rate limited{when}", retry_after=wait)
    if status in (401, 403):
        hint = "credentials refused" if status == 401 else "forbidden (missing scope or permission)"
        return Unauthorized(f"{where}: {hint}{': ' + detail if detail else ''}")
    if status >= 500:
        return Unreachable(f"{where}: server error{': ' + detail if detail else ''}")
    return Rejected(f"{where}{': ' + detail if detail else ''}")


def body_message(resp: httpx.Response, redact: Callable[[str], str] = str) -> str:
    """The human part of an error body, cleaned and short (bodies are untrusted).

    Secrets are redacted before anything is cut, so a cut never leaves part of one."""

    def short(text: str) -> str:
        return clean(redact(text), limit=200)

    try:
        body = resp.json()
    except ValueError:
        text = resp.text.strip()
        if "html" in resp.headers.get("content-type", "").lower() or text.startswith("<"):
            return page_summary(redact(text))
        return short(text)
    if isinstance(body, dict):
        for key in ("message", "error", "error_description", "errorMessage"):
            value = body.get(key)
            if isinstance(value, str) and value:
                # GitHub's validation errors say "Validation Failed"; the why is in errors[].
                errors = body.get("errors")
                why = [
                    e["message"]
                    for e in (errors if isinstance(errors, list) else [])
                    if isinstance(e, dict) and isinstance(e.get("message"), str)
                ]
                return short("; ".join([value, *why]))
            if isinstance(value, dict | list):
                return short(json.dumps(value))
    return short(json.dumps(body))


class _PageText(HTMLParser):
    """An HTML page's title and visible text; scripts and styles are not text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: list[str] = []
        self.text: list[str] = []
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden = max(self._hidden - 1, 0)
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._hidden:
            self.text.append(data)


def page_summary(page: str) -> str:
    """An HTML error page (proxy, load balancer, Jenkins) as its title and first words of text.

    Jenkins titles every error page "Error 403" and puts the why (the missing permission)
    in the body, so the text is kept after the title unless it only repeats it.
    """
    parser = _PageText()
    parser.feed(page[:_PAGE_READ])
    parser.close()
    title = " ".join("".join(parser.title).split())
    text = " ".join(" ".join(parser.text).split())
    if title and text.startswith(title):
        text = text[len(title) :].lstrip()
    summary = "HTML page" + (f" '{title}'" if title else "") + (f": {text}" if text else "")
    return clean(summary, limit=200)


# OpenSSL's alerts when the server wants a client certificate and got none (TLS 1.3,
# then 1.2) or one it does not trust.
_REFUSED_CLIENT = ("CERTIFICATE_REQUIRED", "HANDSHAKE_FAILURE", "BAD_CERTIFICATE", "UNKNOWN_CA")


def transport_failure(exc: BaseException) -> str:
    """Why a request never got an answer, in one line: TLS and proxy failures by name.

    httpx and requests wrap the `ssl.SSLError` a few levels down; its reason and verify
    message are OpenSSL's fixed texts, never the server's words or a secret.
    """
    import ssl

    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            why = cause.verify_message or "unknown reason"
            return f"TLS certificate verify failed ({why}); is ca_file the CA that signed it?"
        if isinstance(cause, ssl.SSLError):
            # No reason: the server hung up mid-TLS. Under TLS 1.3 that is how a missing
            # client certificate usually shows, its alert lost to the connection reset.
            reason = str(cause.reason or "connection closed")
            if cause.reason is None or any(alert in reason for alert in _REFUSED_CLIENT):
                return (
                    f"TLS handshake refused by the server ({reason.lower()}); "
                    "does it need a client certificate (client_cert, client_key)?"
                )
            return f"TLS failed ({reason.lower()})"
    if isinstance(exc, httpx.ProxyError):
        return f"the proxy refused ({clean(str(exc))[:80]})"
    return type(exc).__name__


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps: causes, contexts and urllib3's `reason`."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 16:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        reason = getattr(item, "reason", None)
        todo += [
            item.__cause__,
            item.__context__,
            reason if isinstance(reason, BaseException) else None,
        ]
        todo += [a for a in item.args if isinstance(a, BaseException)]
    return seen
