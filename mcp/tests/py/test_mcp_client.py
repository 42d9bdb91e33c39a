"""Drives ferrocat's MCP server with the official PyPI `mcp` client, headlessly, in every
protocol era: OAuth discovery, dynamic client registration, the sign-in and consent pages
(posted like a browser would), PKCE, the token exchange, then tools/list and a workflow created,
committed, run and its result read.

Usage (the stack must be up, with a DSL worker, e.g. `ferrocat up`):

    pip install mcp            # 2.3.0 or later
    FERROCAT_MCP_URL=http://127.0.0.1:8080/mcp \
    FERROCAT_TEST_EMAIL=admin@ferrocat.local FERROCAT_TEST_PASSWORD=... \
    python mcp/tests/py/test_mcp_client.py

Exits 0 when every era passed, 1 with the failure otherwise.
"""

import asyncio
import os
import re
import sys
import traceback
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

URL = os.environ.get("FERROCAT_MCP_URL", "http://127.0.0.1:8080/mcp")
EMAIL = os.environ.get("FERROCAT_TEST_EMAIL", "admin@ferrocat.local")
PASSWORD = os.environ["FERROCAT_TEST_PASSWORD"]
MODES = os.environ.get("FERROCAT_TEST_MODES", "legacy,auto,2026-07-28").split(",")

WORKFLOW = (Path(__file__).parent / "echo_workflow.yaml").read_text()


class MemoryStorage:
    """Tokens and client registration, kept for one connection."""

    def __init__(self):
        self.tokens = None
        self.client_info = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


def hidden_request_id(html: str) -> str:
    match = re.search(r'name="request_id" value="([^"]+)"', html)
    if not match:
        raise AssertionError(f"no request_id in the page:\n{html}")
    return match.group(1)


class HeadlessBrowser:
    """Signs in and consents on the authorization server's pages, as a person would."""

    def __init__(self):
        self.captured = {}

    async def redirect_handler(self, authorize_url: str) -> None:
        async with httpx2.AsyncClient(follow_redirects=False) as browser:
            page = await browser.get(authorize_url)
            assert page.status_code == 200, page.text
            base = f"{urlparse(authorize_url).scheme}://{urlparse(authorize_url).netloc}"
            consent = await browser.post(
                urljoin(base, "/authorize/sign-in"),
                data={"request_id": hidden_request_id(page.text), "email": EMAIL, "password": PASSWORD},
            )
            assert consent.status_code == 200 and "Allow access?" in consent.text, consent.text
            decided = await browser.post(
                urljoin(base, "/consent"),
                data={"request_id": hidden_request_id(consent.text), "decision": "allow"},
            )
            assert decided.status_code == 303, decided.text
            query = parse_qs(urlparse(decided.headers["location"]).query)
            self.captured = {
                "code": query["code"][0],
                "state": query.get("state", [None])[0],
                "iss": query.get("iss", [None])[0],
            }

    async def callback_handler(self) -> AuthorizationCodeResult:
        return AuthorizationCodeResult(**self.captured)


async def run_mode(mode: str) -> None:
    browser = HeadlessBrowser()
    provider = OAuthClientProvider(
        server_url=URL,
        client_metadata=OAuthClientMetadata(
            client_name=f"pypi-mcp-test ({mode})",
            redirect_uris=["http://127.0.0.1:33999/callback"],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=MemoryStorage(),
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
    )
    async with httpx2.AsyncClient(auth=provider, timeout=180) as http:
        async with Client(streamable_http_client(URL, http_client=http), mode=mode) as client:
            tools = await client.list_tools()
            names = {tool.name for tool in tools.tools}
            for needed in ("create_workflow", "commit_workflow", "run_workflow", "get_execution"):
                assert needed in names, f"{needed} missing from {sorted(names)}"
            created = await client.call_tool("create_workflow", {"yaml": WORKFLOW.replace("TAG", f"python {uuid.uuid4().hex[:8]}")})
            assert not created.is_error, created
            workflow_id = created.structured_content["workflow"]["id"]
            committed = await client.call_tool("commit_workflow", {"workflow_id": workflow_id})
            assert not committed.is_error, committed
            ran = await client.call_tool(
                "run_workflow",
                {"workflow_id": workflow_id, "inputs": {"name": mode}, "wait": True, "timeout_seconds": 60},
            )
            assert ran.structured_content["status"] == "COMPLETED", ran
            assert ran.structured_content["result"] == {"greeting": f"Hello {mode}"}, ran
            detail = await client.call_tool("get_execution", {"execution_id": ran.structured_content["execution_id"]})
            greet = [e for e in detail.structured_content["events"] if e["action_ref"] == "greet"]
            assert greet and greet[0]["status"] == "COMPLETED", detail
    print(f"ok: {mode}: registered, signed in, consented, tools/list, workflow {workflow_id} run and read")


async def main() -> int:
    for mode in MODES:
        try:
            await run_mode(mode.strip())
        except Exception as error:  # report which era failed, then fail
            print(f"FAILED: {mode}: {error!r}", file=sys.stderr)
            traceback.print_exception(error, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
