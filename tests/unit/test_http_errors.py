"""An error answer that is an HTML page (proxy, load balancer, Jenkins) reads as its title, never as markup."""

from __future__ import annotations

import httpx
import pytest

from cockpit.connect.http import Api
from cockpit.errors import Rejected, Unauthorized, Unreachable

TOKEN = "s3cret-token"

# What nginx sends when its upstream is down, byte for byte apart from the version.
NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def api(status: int, body: bytes, content_type: str) -> Api:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": content_type})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return Api(client, "https://ci.example.com", name="jenkins", secrets=(TOKEN,))


async def error_of(status: int, body: bytes, content_type: str = "text/html") -> Exception:
    with pytest.raises(Exception) as caught:
        await api(status, body, content_type).get("/job/shop/api/json")
    return caught.value


async def test_an_nginx_502_page_says_its_status_and_title_not_its_markup() -> None:
    error = await error_of(502, NGINX_502)
    assert isinstance(error, Unreachable)
    assert str(error) == (
        "jenkins: GET /job/shop/api/json -> 502: server error: "
        "HTML page '502 Bad Gateway': nginx/1.25.3"
    )


async def test_an_html_page_served_as_text_plain_is_still_read_as_html() -> None:
    error = await error_of(502, b"  \n" + NGINX_502, "text/plain")
    assert str(error).endswith("server error: HTML page '502 Bad Gateway': nginx/1.25.3")


async def test_an_html_page_without_a_title_gives_its_first_words_capped() -> None:
    words = " ".join(f"word{i}" for i in range(100))
    page = (
        "<!DOCTYPE html><html><head><style>body { color: red }</style>"
        "<script>var x = '<b>';</script></head>"
        f"<body><h1>Access&nbsp;denied</h1><p>{words}</p></body></html>"
    ).encode()
    error = await error_of(403, page, "text/html; charset=utf-8")
    assert isinstance(error, Unauthorized)
    message = str(error)
    assert "<" not in message and "color" not in message and "var x" not in message
    detail = message.split("forbidden (missing scope or permission): ", 1)[1]
    assert detail.startswith("HTML page: Access denied word0 word1")
    assert len(detail) <= 200


async def test_an_html_title_is_cleaned_and_redacted() -> None:
    page = f"<html><head><title>Denied \x1b[31m{TOKEN}</title></head></html>".encode()
    error = await error_of(404, page)
    assert isinstance(error, Rejected)
    assert TOKEN not in str(error) and "\x1b" not in str(error)
    assert "HTML page 'Denied" in str(error)


async def test_a_plain_text_error_body_is_unchanged() -> None:
    error = await error_of(503, b"Jenkins is getting ready to work", "text/plain")
    assert str(error).endswith("server error: Jenkins is getting ready to work")


async def test_an_html_page_with_no_text_says_only_that_it_was_html() -> None:
    error = await error_of(500, b"<html><body><script>boom()</script></body></html>")
    assert str(error).endswith("server error: HTML page")


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "text/html"])
async def test_a_secret_straddling_the_cut_never_leaks_its_first_part(content_type: str) -> None:
    """Error bodies are cut to 200 characters: redacting after the cut would miss a token
    the cut split, and print its first half."""
    for at in range(185, 200):
        text = "x" * at + " " + TOKEN + " echoed back"
        if content_type == "application/json":
            body = ('{"message": "' + text + '"}').encode()
        elif content_type == "text/html":
            body = f"<html><body><p>{text}</p></body></html>".encode()
        else:
            body = text.encode()
        error = await error_of(400, body, content_type)
        assert "s3cret" not in str(error) and "s3c" not in str(error).replace("x", "")
