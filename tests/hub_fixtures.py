"""Pytest fixtures that point the real `huggingface_hub` client at a local `HubServer`.

`huggingface_hub.constants` reads `HF_ENDPOINT`, `HF_HOME`, `HF_HUB_DISABLE_XET` and
friends once, when that module is first imported, and derives more constants from them
(the download URL template, the cache and token paths, the hosts trusted with the
token). `import huggingface_hub` alone is lazy and does not load it (`import keras`
does only that); the first use of any client name does. So the environment must be
set before anything uses the client: `configure_client()` does it. Call it at the
top of `tests/conftest.py`, before importing keras or keras_gans, then import the
fixtures:

```python
from tests.hub_fixtures import configure_client

configure_client()  # before keras_gans loads huggingface_hub.constants

from tests.hub_fixtures import hub, hub_offline, hub_repo_id, hub_token  # noqa: E402, F401
```

(`pytest_plugins = ["tests.hub_fixtures"]` also works, through this module's
`pytest_configure`, as long as nothing imported by the conftest has loaded
`huggingface_hub.constants` by then.)

Offline mode is read at call time (`constants.is_offline_mode()` returns
`constants.HF_HUB_OFFLINE`), so `hub_offline` patches that constant in-process and
sets `HF_HUB_OFFLINE=1` for subprocesses.

Fixtures:
- `hub`: the session's `HubServer`; faults injected by a test are cleared after it.
- `hub_token`: sets `HF_TOKEN` to a token of `HUB_USER` and returns it.
- `hub_repo_id`: a repo id under `HUB_USER` that no other test uses.
- `hub_offline`: switches the client to offline mode for one test.
"""

from __future__ import annotations

import atexit
import itertools
import os
import re
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator

import pytest

from tests.hub_server import HubServer

HUB_USER = "keras-gans-tester"
HUB_TOKEN = "hf_keras_gans_tester_token"
OTHER_USER = "someone-else"
OTHER_TOKEN = "hf_someone_else_token"

_CLIENT_ENV = {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
}
_CLEARED_ENV = (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_TOKEN_PATH",
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "HF_ASSETS_CACHE",
    "HUGGINGFACE_ASSETS_CACHE",
    "HF_XET_CACHE",
    "HF_HUB_OFFLINE",
    "HF_HUB_DISABLE_XET",
    "TRANSFORMERS_OFFLINE",
    "HUGGINGFACE_CO_STAGING",
)

_session: HubServer | None = None
_repo_numbers = itertools.count()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


_endpoint: str | None = None


def configure_client() -> str:
    """Points `huggingface_hub` at the session's server, before anything loads the client.

    Reserves a port on 127.0.0.1 and sets `HF_ENDPOINT` to it, `HF_HOME` to a fresh
    temporary folder (so the download cache and token file are the test session's
    own) and `HF_HUB_DISABLE_TELEMETRY=1`, and unsets
    variables that would override them (`HF_TOKEN`, `HF_HUB_CACHE`, `HF_HUB_OFFLINE`,
    ...). The server itself starts only when a test asks for the `hub` fixture.
    Idempotent.

    Returns:
        The endpoint the server will answer on.

    Raises:
        RuntimeError: if `huggingface_hub.constants` was loaded first, as its
            constants would still point at huggingface.co.
    """
    global _endpoint
    if _endpoint is not None:
        return _endpoint
    if "huggingface_hub.constants" in sys.modules:
        raise RuntimeError(
            "huggingface_hub.constants was loaded before configure_client(), so the "
            "client points at huggingface.co. Call configure_client() at the top of "
            "tests/conftest.py, before importing keras_gans."
        )
    _endpoint = f"http://127.0.0.1:{_free_port()}"
    home = tempfile.mkdtemp(prefix="hf-home-")
    for name in _CLEARED_ENV:
        os.environ.pop(name, None)
    os.environ.update(_CLIENT_ENV, HF_ENDPOINT=_endpoint, HF_HOME=home)
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    return _endpoint


def start_session_server() -> HubServer:
    """Starts the session's `HubServer` on the endpoint `configure_client` reserved.

    Registers `HUB_TOKEN` for `HUB_USER` and `OTHER_TOKEN` for `OTHER_USER`.
    Idempotent; the server stops, and its folders are removed, at exit.
    """
    global _session
    if _session is not None:
        return _session
    port = int(configure_client().rsplit(":", 1)[1])
    server = HubServer(tokens={HUB_TOKEN: HUB_USER, OTHER_TOKEN: OTHER_USER}, port=port)
    server.start()
    atexit.register(server.stop)
    _session = server
    return server


def pytest_configure(config: pytest.Config) -> None:
    configure_client()


@pytest.fixture
def hub() -> Iterator[HubServer]:
    """The session's `HubServer`, which `huggingface_hub` talks to by default."""
    server = start_session_server()
    from huggingface_hub import constants

    if constants.ENDPOINT != server.endpoint:
        raise RuntimeError(
            f"huggingface_hub points at {constants.ENDPOINT}, not {server.endpoint}."
        )
    yield server
    server.clear_faults()


@pytest.fixture
def hub_token(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """Logs in as `HUB_USER` through `HF_TOKEN`, as a user would."""
    monkeypatch.setenv("HF_TOKEN", HUB_TOKEN)
    return HUB_TOKEN


@pytest.fixture
def hub_repo_id(request: pytest.FixtureRequest) -> str:
    """A fresh repo id under `HUB_USER`, named after the test."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:60]
    return f"{HUB_USER}/{name}-{next(_repo_numbers)}"


@pytest.fixture
def hub_offline(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Puts the client in offline mode, here and in subprocesses."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
