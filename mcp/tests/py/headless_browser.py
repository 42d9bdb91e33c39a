#!/usr/bin/env python3
"""A person at a browser, for MCP clients that open the authorization URL themselves (the npm
`@modelcontextprotocol/inspector` CLI, run with `MCP_AUTO_OPEN_ENABLED=true BROWSER=<this file>`):
opens the URL, signs in on ferrocat's sign-in page with FERROCAT_TEST_EMAIL and
FERROCAT_TEST_PASSWORD, allows access on the consent page, and follows the redirect to the
client's loopback callback. Standard library only.

Its stdio is not connected to anything, so it writes what happened (and why it failed) to the
file named by FERROCAT_TEST_BROWSER_LOG, when set.
"""

import http.cookiejar
import os
import re
import sys
import traceback
import urllib.error
import urllib.parse
import urllib.request


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are read, not followed: the last one goes to the client."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def request_id(html: str) -> str:
    match = re.search(r'name="request_id" value="([^"]+)"', html)
    if not match:
        raise AssertionError(f"no request_id in the page:\n{html}")
    return match.group(1)


def post(opener, url: str, fields: dict):
    """Status, body and (case-insensitive) headers of a form post."""
    data = urllib.parse.urlencode(fields).encode()
    try:
        with opener.open(urllib.request.Request(url, data=data)) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), error.headers


def sign_in(authorize_url: str) -> str:
    """Signs in and consents; the client's callback URL with the code."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirects)
    parts = urllib.parse.urlsplit(authorize_url)
    base = f"{parts.scheme}://{parts.netloc}"
    with opener.open(authorize_url) as response:
        page = response.read().decode()
    status, consent, _ = post(
        opener,
        f"{base}/authorize/sign-in",
        {"request_id": request_id(page), "email": os.environ["FERROCAT_TEST_EMAIL"], "password": os.environ["FERROCAT_TEST_PASSWORD"]},
    )
    assert status == 200 and "Allow access?" in consent, f"sign-in answered {status}:\n{consent}"
    status, body, headers = post(opener, f"{base}/consent", {"request_id": request_id(consent), "decision": "allow"})
    assert status == 303, f"consent answered {status}:\n{body}"
    return headers["location"]


def main() -> int:
    log_path = os.environ.get("FERROCAT_TEST_BROWSER_LOG")
    log = open(log_path, "a") if log_path else sys.stderr
    try:
        callback = sign_in(sys.argv[1])
        print(f"consented; returning to {urllib.parse.urlsplit(callback).netloc}", file=log)
        with urllib.request.urlopen(callback) as response:
            print(f"the client's callback answered {response.status}", file=log)
        return 0
    except Exception:
        traceback.print_exc(file=log)
        return 1
    finally:
        log.flush()


if __name__ == "__main__":
    sys.exit(main())
