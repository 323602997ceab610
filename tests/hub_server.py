"""A Hugging Face Hub-compatible HTTP server for offline tests.

`HubServer` runs in a daemon thread of the test process, bound to 127.0.0.1 on a free
port, and speaks enough of the Hub's HTTP API for the real `huggingface_hub` client
(never a mock) to create repos, push commits and download files. Uploaded bytes live
in a temporary directory; repos, commits and branches live in memory
(`tests/hub_store.py`). The routes below are `tests/hub_routes.py`.

Large or binary files arrive through either transfer the client uses: Xet (the
default when `hf_xet` is installed: a write token, then xorbs and a shard to the CAS
routes of `tests/xet_cas.py`, which rebuilds each file and checks its sha256), or the
Git LFS "basic" transfer (`HF_HUB_DISABLE_XET=1`). Both end in one NDJSON commit whose
`lfsFile` lines name the file's sha256. Downloads are plain HTTP either way.

Endpoints, and the client calls that need them:

- `GET /api/whoami-v2`: `HfApi.whoami`.
- `POST /api/repos/create`, `DELETE /api/repos/delete`: `create_repo`, `delete_repo`.
- `POST /api/validate-yaml`: `create_commit` validates the metadata of any `README.md`
  (this server accepts any).
- `GET /api/{type}s/{repo}[/revision/{rev}]`: `repo_info`, `model_info`,
  `snapshot_download` (resolves a branch to a commit). Front matter of `README.md` is
  parsed into `cardData`, `tags`, `library_name` and `pipeline_tag`, like the Hub.
- `POST /api/{type}s/{repo}/preupload/{rev}`: tells the client to send each file
  inline ("regular") or through LFS ("lfs"), and the oid of the file already there.
- `GET /api/{type}s/{repo}/xet-{read,write}-token/{rev}`: a Xet access token and the
  CAS URL (`{endpoint}/xet-cas`), whose routes `XetStore.handle` answers.
- `POST /{repo}.git/info/lfs/objects/batch`: LFS batch API; answers an upload and a
  verify action per object not stored yet.
- `PUT /lfs-upload/{ticket}`: where LFS bytes go. Like a presigned S3 URL it needs no
  token; the ticket is bound to one oid and size, and the sha256 is checked.
- `POST /{repo}.git/info/lfs/objects/verify`: LFS verify step.
- `POST /api/{type}s/{repo}/commit/{rev}`: the NDJSON commit (`header`, `file`,
  `lfsFile`, `deletedFile`, `deletedFolder` lines); honours `parentCommit`.
- `GET /api/{type}s/{repo}/tree/{rev}[/{path}]`: `list_repo_tree`, `list_repo_files`,
  `snapshot_download` (lists the files of a commit).
- `POST /api/{type}s/{repo}/paths-info/{rev}`: `get_paths_info`.
- `GET /api/{type}s/{repo}/commits/{rev}`: `list_repo_commits`.
- `GET /api/{type}s/{repo}/refs`: `list_repo_refs`.
- `HEAD|GET /{repo}/resolve/{rev}/{path}`: `hf_hub_download`, `file_exists`,
  `get_hf_file_metadata`. Sends `X-Repo-Commit`, an `ETag` (git blob id, or sha256 for
  LFS files, with `X-Linked-Etag`/`X-Linked-Size`) and `Content-Length`, and serves the
  bytes itself instead of redirecting to a CDN.

Errors carry the `X-Error-Code` header the client turns into typed exceptions: a repo
that is missing, or private and not yours, answers 401 (no token) or 404 (a token)
with `RepoNotFound`; unknown revisions `RevisionNotFound`; missing files
`EntryNotFound` (404, with `X-Repo-Commit`). An unknown token answers 401 "Invalid
credentials in Authorization header" on every endpoint, as the Hub does.

Like the Hub, `create_repo` makes an "initial commit" holding a `.gitattributes`, and
`main` is the only branch. Revisions may be `main` or a full 40-hex commit sha.

Test helpers: `commits`, `read_file` and `requests` inspect the server;
`corrupt_file` and `fail_next_commit` inject faults; `clear_faults` removes them.

Example:

```python
with HubServer(tokens={"hf_valid_token": "me"}) as server:
    api = HfApi(endpoint=server.endpoint, token="hf_valid_token")
    api.create_repo("me/model")
```
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType

from tests.hub_routes import HubRequestHandler
from tests.hub_store import DEFAULT_LFS_THRESHOLD, LFS_SUFFIXES, Commit, Repo, StoredFile


class HubServer:
    """An in-process Hugging Face Hub for tests (see the module docstring).

    Args:
        tokens: token -> user name. Each user owns the namespace of its name.
        lfs_threshold: files at least this many bytes are uploaded through LFS.
            Smaller files go through LFS too when binary (a NUL byte in the first
            512 bytes) or when their suffix is in `LFS_SUFFIXES`.
        host: interface to bind.

    Example:

    ```python
    server = HubServer(tokens={"hf_valid_token": "me"}).start()
    print(server.endpoint)  # http://127.0.0.1:PORT
    server.stop()
    ```
    """

    def __init__(
        self,
        tokens: Mapping[str, str] | None = None,
        *,
        lfs_threshold: int = DEFAULT_LFS_THRESHOLD,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.lfs_threshold = lfs_threshold
        self._host = host
        self._port = port
        self._tokens = dict(tokens or {})
        self._lock = threading.RLock()
        self._repos: dict[tuple[str, str], Repo] = {}
        self._tickets: dict[str, tuple[str, int]] = {}
        self._corrupted: dict[tuple[str, str, str], bytes] = {}
        self._failures: list[int] = []
        self._requests: list[tuple[str, str]] = []
        self._counter = itertools.count()
        self._storage: Path | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle -----------------------------------------------------------------

    def start(self) -> HubServer:
        """Binds `port` (0: a free one), creates the storage folder and serves in a thread."""
        if self._httpd is not None:
            return self
        self._storage = Path(tempfile.mkdtemp(prefix="hub-server-"))
        self._httpd = _HTTPServer((self._host, self._port), HubRequestHandler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="HubServer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving and forgets everything: repos, files, log and faults."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        self._thread.join()
        shutil.rmtree(self._storage, ignore_errors=True)
        self._httpd = self._thread = self._storage = None
        with self._lock:
            self._repos.clear()
            self._tickets.clear()
            self._requests.clear()
        self.clear_faults()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """Base URL to use as `HF_ENDPOINT`, e.g. "http://127.0.0.1:54321"."""
        if self._httpd is None:
            raise RuntimeError("HubServer is not started.")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # Users ---------------------------------------------------------------------

    def add_token(self, token: str, user: str) -> None:
        """Registers `token` as an access token of `user`."""
        with self._lock:
            self._tokens[token] = user

    # Inspection ----------------------------------------------------------------

    @property
    def requests(self) -> list[tuple[str, str]]:
        """Every request received so far, as (method, path without query)."""
        with self._lock:
            return list(self._requests)

    def commits(self, repo_id: str, *, repo_type: str = "model") -> list[Commit]:
        """The commits of `main`, newest first (the initial commit last)."""
        with self._lock:
            return self._repo(repo_type, repo_id).history("main")

    def read_file(
        self, repo_id: str, path: str, *, revision: str = "main", repo_type: str = "model"
    ) -> bytes:
        """The stored bytes of `path` at `revision` (before any `corrupt_file`)."""
        with self._lock:
            stored = self._repo(repo_type, repo_id).resolve(revision).files[path]
        return self._object_path(stored.sha256).read_bytes()

    # Fault injection -----------------------------------------------------------

    def corrupt_file(
        self,
        repo_id: str,
        path: str,
        data: bytes | None = None,
        *,
        repo_type: str = "model",
    ) -> None:
        """Serves other bytes for `path`, in every revision, from now on.

        The headers still advertise the original size, ETag and sha256, as with a
        blob damaged in storage or in transit. By default every byte is inverted, so
        the size matches and only a checksum can notice.
        """
        original = self.read_file(repo_id, path, repo_type=repo_type)
        if data is None:
            data = bytes(b ^ 0xFF for b in original)
        with self._lock:
            self._corrupted[(repo_type, repo_id, path)] = data

    def fail_next_commit(self, status: int = 500) -> None:
        """Answers the next commit request with `status`, committing nothing."""
        with self._lock:
            self._failures.append(status)

    def clear_faults(self) -> None:
        """Forgets pending `fail_next_commit` failures and `corrupt_file` overrides."""
        with self._lock:
            self._failures.clear()
            self._corrupted.clear()

    # Storage (used by the request handler) --------------------------------------

    def _repo(self, repo_type: str, repo_id: str) -> Repo:
        try:
            return self._repos[(repo_type, repo_id)]
        except KeyError:
            raise KeyError(f"No {repo_type} repo {repo_id!r} on this server.") from None

    def _object_path(self, sha256: str) -> Path:
        return self._storage / "objects" / sha256

    def _store(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        target = self._object_path(sha256)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f"{sha256}.{secrets.token_hex(4)}.tmp")
            partial.write_bytes(data)
            partial.replace(target)
        return sha256

    def _has_object(self, sha256: str, size: int) -> bool:
        target = self._object_path(sha256)
        return target.exists() and target.stat().st_size == size

    def _new_commit(
        self,
        repo: Repo,
        parent: Commit | None,
        files: dict[str, StoredFile],
        title: str,
        message: str,
        author: str,
    ) -> Commit:
        date = datetime.now(timezone.utc)
        seed = json.dumps(
            [
                parent.oid if parent else None,
                sorted((p, f.blob_id) for p, f in files.items()),
                title,
                message,
                author,
                date.isoformat(),
                next(self._counter),
            ]
        )
        commit = Commit(
            oid=hashlib.sha1(seed.encode()).hexdigest(),
            title=title,
            message=message,
            author=author,
            date=date,
            parent=parent.oid if parent else None,
            files=MappingProxyType(dict(files)),
        )
        repo.commits[commit.oid] = commit
        repo.branches["main"] = commit.oid
        return commit

    def _upload_mode(self, path: str, size: int, sample: bytes) -> str:
        if size == 0:
            return "regular"
        if size >= self.lfs_threshold or b"\0" in sample or path.endswith(tuple(LFS_SUFFIXES)):
            return "lfs"
        return "regular"


class _HTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that knows its `HubServer` and its open connections.

    The client keeps connections alive; `close_connections` ends them on `stop()` so
    that no handler thread keeps serving a stopped server.
    """

    daemon_threads = True

    def __init__(self, address, handler, hub: HubServer):
        super().__init__(address, handler)
        self.hub = hub
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
