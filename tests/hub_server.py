"""A Hugging Face Hub-compatible HTTP server for offline tests.

`HubServer` runs in a daemon thread of the test process, bound to 127.0.0.1 on a free
port, and speaks enough of the Hub's HTTP API for the real `huggingface_hub` client
(never a mock) to create repos, push commits and download files. Uploaded bytes live
in a temporary directory; repos, commits and branches live in memory.

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

import atexit
import base64
import contextlib
import hashlib
import itertools
import json
import logging
import re
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType
from urllib.parse import parse_qs, unquote, urlsplit

from tests.xet_cas import XetStore

DEFAULT_LFS_THRESHOLD = 10 * 1024 * 1024
"""Files at least this large go through LFS, as on the Hub (10 MiB)."""

LFS_SUFFIXES = (
    ".7z .arrow .bin .bz2 .ckpt .gz .h5 .joblib .keras .msgpack .npy .npz .onnx .parquet"
    " .pb .pickle .pkl .pt .pth .safetensors .tar .tflite .tgz .xz .zip .zst"
).split()
"""Suffixes tracked by LFS in the `.gitattributes` of a new repo (a subset of the Hub's)."""

GITATTRIBUTES = "".join(f"*{s} filter=lfs diff=lfs merge=lfs -text\n" for s in LFS_SUFFIXES)

logger = logging.getLogger(__name__)

_REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
_URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_REPO = r"(?P<namespace>[^/]+)/(?P<name>[^/]+)"
_API_REPO = r"/api/(?P<plural>models|datasets|spaces)/" + _REPO
_GIT_REPO = r"/(?:(?P<plural>datasets|spaces)/)?" + _REPO


def _git_blob_id(data: bytes) -> str:
    """The git object id of a blob, as `git hash-object` computes it."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class StoredFile:
    """One file of a commit, described the way the Hub describes it.

    Attributes:
        size: size of the content in bytes.
        sha256: hex sha256 of the content; the name of the stored object.
        lfs: whether the file was committed through LFS.
        blob_id: git object id: of the content for a regular file, of the LFS
            pointer for an LFS file.
    """

    size: int
    sha256: str
    lfs: bool
    blob_id: str

    @classmethod
    def create(cls, data_sha256: str, size: int, lfs: bool, data: bytes | None) -> StoredFile:
        if lfs:
            blob_id = _git_blob_id(_lfs_pointer(data_sha256, size))
        else:
            assert data is not None
            blob_id = _git_blob_id(data)
        return cls(size=size, sha256=data_sha256, lfs=lfs, blob_id=blob_id)

    @property
    def oid(self) -> str:
        """The id the preupload endpoint reports, compared by the client to skip no-ops."""
        return self.sha256 if self.lfs else self.blob_id

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.blob_id

    def tree_entry(self, path: str) -> dict:
        entry = {"type": "file", "oid": self.blob_id, "size": self.size, "path": path}
        if self.lfs:
            pointer_size = len(_lfs_pointer(self.sha256, self.size))
            entry["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": pointer_size}
        return entry


def _lfs_pointer(sha256: str, size: int) -> bytes:
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"
    ).encode()


@dataclass(frozen=True)
class Commit:
    """An immutable snapshot of a repo.

    Attributes:
        oid: 40-hex commit sha.
        title: the commit summary.
        message: the commit description.
        author: user name of whoever pushed it.
        date: when it was created (UTC).
        parent: oid of the previous commit on the branch, None for the first.
        files: path -> `StoredFile`, the whole tree of the commit.
    """

    oid: str
    title: str
    message: str
    author: str
    date: datetime
    parent: str | None
    files: Mapping[str, StoredFile]


@dataclass
class _Repo:
    repo_type: str
    repo_id: str
    private: bool
    created_at: datetime
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)

    @property
    def owner(self) -> str:
        return self.repo_id.split("/")[0]

    def resolve(self, revision: str) -> Commit:
        oid = self.branches.get(revision, revision)
        if oid not in self.commits:
            raise _HubError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        return self.commits[oid]

    def history(self, revision: str) -> list[Commit]:
        """Commits reachable from `revision`, newest first."""
        commit: Commit | None = self.resolve(revision)
        history = []
        while commit is not None:
            history.append(commit)
            commit = self.commits[commit.parent] if commit.parent else None
        return history


class _HubError(Exception):
    """An error answer: status, message, the `X-Error-Code` the client maps, and
    extra headers or JSON fields."""

    def __init__(self, status: int, message: str, code: str | None = None, headers=None, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}
        self.extra = extra


def _not_found(user: str | None) -> _HubError:
    # The Hub hides private repos: "not found", 401 without a token, 404 with one.
    return _HubError(401 if user is None else 404, "Repository not found", "RepoNotFound")


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
        self._repos: dict[tuple[str, str], _Repo] = {}
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
        self._httpd = _HTTPServer((self._host, self._port), _Handler, self)
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

    def _repo(self, repo_type: str, repo_id: str) -> _Repo:
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
        repo: _Repo,
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


_xet_store: XetStore | None = None


def _shared_xet_store() -> XetStore:
    """The process's one Xet CAS, shared by every `HubServer` of the process.

    Like the Hub's, it is content-addressed: the client's local Xet cache (under
    `HF_HOME`) deduplicates against chunks it sent earlier, possibly to another server.
    """
    global _xet_store
    if _xet_store is None:
        root = tempfile.mkdtemp(prefix="xet-cas-")
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _xet_store = XetStore(Path(root))
    return _xet_store


class _Handler(BaseHTTPRequestHandler):
    """Routes one HTTP request to a `HubServer` operation."""

    protocol_version = "HTTP/1.1"
    server_version = "HubServer/1.0"

    ROUTES = [
        ("GET", r"/api/whoami-v2", "whoami"),
        ("POST", r"/api/repos/create", "create_repo"),
        ("DELETE", r"/api/repos/delete", "delete_repo"),
        ("POST", r"/api/validate-yaml", "validate_yaml"),
        ("GET", _API_REPO + r"(?:/revision/(?P<revision>[^/]+))?", "repo_info"),
        ("POST", _API_REPO + r"/preupload/(?P<revision>[^/]+)", "preupload"),
        ("GET", _API_REPO + r"/xet-(?P<access>read|write)-token/(?P<revision>[^/]+)", "xet_token"),
        ("POST", _API_REPO + r"/commit/(?P<revision>[^/]+)", "commit"),
        ("GET", _API_REPO + r"/tree/(?P<revision>[^/]+)(?:/(?P<path>.+))?", "tree"),
        ("POST", _API_REPO + r"/paths-info/(?P<revision>[^/]+)", "paths_info"),
        ("GET", _API_REPO + r"/commits/(?P<revision>[^/]+)", "list_commits"),
        ("GET", _API_REPO + r"/refs", "refs"),
        ("POST", _GIT_REPO + r"\.git/info/lfs/objects/batch", "lfs_batch"),
        ("POST", _GIT_REPO + r"\.git/info/lfs/objects/verify", "lfs_verify"),
        ("PUT", r"/lfs-upload/(?P<ticket>[0-9a-f]+)", "lfs_upload"),
        ("GET", _GIT_REPO + r"/resolve/(?P<revision>[^/]+)/(?P<path>.+)", "resolve"),
        ("HEAD", _GIT_REPO + r"/resolve/(?P<revision>[^/]+)/(?P<path>.+)", "resolve"),
    ]

    @property
    def hub(self) -> HubServer:
        return self.server.hub

    def log_message(self, format, *args) -> None:
        """Silences the default stderr log; `HubServer.requests` records requests."""

    # Dispatch ------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        self.query = parse_qs(url.query)
        self.body = self._read_body()
        with self.hub._lock:
            self.hub._requests.append((self.command, url.path))
        try:
            answer = _shared_xet_store().handle(self.command, url.path, self.headers, self.body)
            if answer is not None:
                status, headers, body = answer
                self._send(status, body, headers)
                return
            for method, pattern, name in self.ROUTES:
                match = re.fullmatch(pattern, url.path)
                if method == self.command and match:
                    args = {k: v and unquote(v) for k, v in match.groupdict().items()}
                    getattr(self, f"_{name}")(**args)
                    return
            raise _HubError(404, f"No route for {self.command} {url.path}")
        except _HubError as error:
            headers = dict(error.headers, **{"X-Error-Message": error.message})
            if error.code:
                headers["X-Error-Code"] = error.code
            payload = {"error": error.message, **error.extra}
            self._send_json(payload, status=error.status, headers=headers)
        except Exception as error:  # a server bug: answer it instead of dropping the socket
            logger.exception("HubServer failed on %s %s", self.command, self.path)
            self._send_json({"error": repr(error)}, status=500)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while (size := int(self.rfile.readline().split(b";")[0], 16)) > 0:
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(
        self,
        status: int,
        body: bytes,
        headers: Mapping[str, str],
        length: int | None = None,
    ) -> None:
        """Sends a response; `length` overrides the Content-Length of a HEAD answer."""
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, payload, status: int = 200, headers=None) -> None:
        headers = {"Content-Type": "application/json", **(headers or {})}
        self._send(status, json.dumps(payload).encode(), headers)

    # Access control ------------------------------------------------------------

    def _user(self) -> str | None:
        """The user of the bearer token, None without one; 401 for an unknown one."""
        header = self.headers.get("Authorization")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        user = self.hub._tokens.get(token) if scheme.lower() == "bearer" else None
        if user is None:
            raise _HubError(401, "Invalid credentials in Authorization header")
        return user

    def _readable(self, plural: str | None, namespace: str, name: str) -> _Repo:
        user = self._user()
        repo = self.hub._repos.get((_REPO_TYPES[plural or "models"], f"{namespace}/{name}"))
        if repo is None or (repo.private and user != repo.owner):
            raise _not_found(user)
        return repo

    def _writable(self, plural: str | None, namespace: str, name: str) -> tuple[_Repo, str]:
        user = self._user()
        repo = self.hub._repos.get((_REPO_TYPES[plural or "models"], f"{namespace}/{name}"))
        if user is None or repo is None or (repo.private and user != repo.owner):
            raise _not_found(user)
        if user != repo.owner:
            raise _HubError(403, f"You don't have the rights to write to {repo.repo_id}")
        return repo, user

    def _url(self, repo: _Repo) -> str:
        return f"{self.hub.endpoint}/{_URL_PREFIXES[repo.repo_type]}{repo.repo_id}"

    # Users and repos -------------------------------------------------------------

    def _whoami(self) -> None:
        user = self._user()
        if user is None:
            raise _HubError(401, "Invalid credentials in Authorization header")
        self._send_json(
            {
                "type": "user",
                "id": hashlib.sha1(user.encode()).hexdigest()[:24],
                "name": user,
                "fullname": user,
                "email": f"{user}@example.com",
                "emailVerified": True,
                "isPro": False,
                "orgs": [],
                "auth": {
                    "type": "access_token",
                    "accessToken": {"displayName": "tests", "role": "write"},
                },
            }
        )

    def _create_repo(self) -> None:
        user = self._user()
        if user is None:
            raise _HubError(401, "You must be authenticated to create a repo")
        payload = json.loads(self.body)
        repo_type = payload.get("type") or "model"
        namespace = payload.get("organization") or user
        if namespace != user:
            raise _HubError(403, f"You don't have the rights to create a repo in {namespace}")
        repo_id = f"{namespace}/{payload['name']}"
        private = payload.get("visibility", "private" if payload.get("private") else "public")
        with self.hub._lock:
            repo = _Repo(repo_type, repo_id, private != "public", datetime.now(timezone.utc))
            if (repo_type, repo_id) in self.hub._repos:
                # Like the Hub, the conflict answer carries the url: exist_ok uses it.
                message = f"You already created this {repo_type} repo"
                raise _HubError(409, message, url=self._url(repo))
            data = GITATTRIBUTES.encode()
            attributes = StoredFile.create(self.hub._store(data), len(data), False, data)
            self.hub._new_commit(
                repo, None, {".gitattributes": attributes}, "initial commit", "", user
            )
            self.hub._repos[(repo_type, repo_id)] = repo
        self._send_json({"url": self._url(repo), "name": repo_id, "id": repo_id})

    def _delete_repo(self) -> None:
        payload = json.loads(self.body)
        namespace = payload.get("organization") or self._user()
        plural = {"dataset": "datasets", "space": "spaces"}.get(payload.get("type"))
        repo, _ = self._writable(plural, namespace, payload["name"])
        with self.hub._lock:
            del self.hub._repos[(repo.repo_type, repo.repo_id)]
        self._send_json({})

    def _validate_yaml(self) -> None:
        self._send_json({"errors": [], "warnings": []})

    def _repo_info(self, plural, namespace, name, revision) -> None:
        repo = self._readable(plural, namespace, name)
        with self.hub._lock:
            commit = repo.resolve(revision or "main")
        card = self._card_data(repo, commit)
        blobs = self.query.get("blobs", ["false"])[0].lower() in ("1", "true")
        siblings = []
        for path, stored in sorted(commit.files.items()):
            sibling = {"rfilename": path}
            if blobs:
                entry = stored.tree_entry(path)
                sibling.update(size=entry["size"], blobId=entry["oid"])
                if "lfs" in entry:
                    lfs = entry["lfs"]
                    sibling["lfs"] = {
                        "sha256": lfs["oid"],
                        "size": lfs["size"],
                        "pointerSize": lfs["pointerSize"],
                    }
            siblings.append(sibling)
        tags = list(card.get("tags") or [])
        if card.get("library_name"):
            tags.insert(0, card["library_name"])
        self._send_json(
            {
                "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
                "id": repo.repo_id,
                "author": repo.owner,
                "sha": commit.oid,
                "lastModified": _iso(commit.date),
                "createdAt": _iso(repo.created_at),
                "private": repo.private,
                "gated": False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": tags,
                "library_name": card.get("library_name"),
                "pipeline_tag": card.get("pipeline_tag"),
                "cardData": card or None,
                "siblings": siblings,
                "usedStorage": sum(f.size for f in commit.files.values()),
            }
        )

    def _card_data(self, repo: _Repo, commit: Commit) -> dict:
        """The YAML front matter of the commit's README.md, as the Hub parses it."""
        if "README.md" not in commit.files:
            return {}
        import yaml  # a dependency of huggingface_hub

        text = self.hub._object_path(commit.files["README.md"].sha256).read_text()
        match = re.match(r"---\s*\n(.*?)\n---\s*(\n|$)", text, flags=re.DOTALL)
        metadata = yaml.safe_load(match.group(1)) if match else None
        return metadata if isinstance(metadata, dict) else {}

    def _refs(self, plural, namespace, name) -> None:
        repo = self._readable(plural, namespace, name)
        branches = [
            {"name": branch, "ref": f"refs/heads/{branch}", "targetCommit": oid}
            for branch, oid in repo.branches.items()
        ]
        self._send_json({"branches": branches, "converts": [], "tags": [], "pullRequests": []})

    def _list_commits(self, plural, namespace, name, revision) -> None:
        repo = self._readable(plural, namespace, name)
        with self.hub._lock:
            history = repo.history(revision)
        self._send_json(
            [
                {
                    "id": commit.oid,
                    "title": commit.title,
                    "message": commit.message,
                    "authors": [{"user": commit.author}],
                    "date": _iso(commit.date),
                }
                for commit in history
            ]
        )

    # Tree listing ----------------------------------------------------------------

    @staticmethod
    def _tree_entries(commit: Commit) -> dict[str, dict]:
        """Every file and folder of a commit, keyed by path, in Hub listing format."""
        entries = {path: stored.tree_entry(path) for path, stored in commit.files.items()}
        folders: dict[str, list[str]] = {}
        for path, stored in commit.files.items():
            parts = path.split("/")
            for depth in range(1, len(parts)):
                folders.setdefault("/".join(parts[:depth]), []).append(stored.blob_id)
        for folder, blob_ids in folders.items():
            tree_id = hashlib.sha1("".join(sorted(blob_ids)).encode()).hexdigest()
            entries[folder] = {"type": "directory", "oid": tree_id, "size": 0, "path": folder}
        return entries

    def _tree(self, plural, namespace, name, revision, path) -> None:
        repo = self._readable(plural, namespace, name)
        with self.hub._lock:
            commit = repo.resolve(revision)
        entries = self._tree_entries(commit)
        path = path or ""
        if path and entries.get(path, {}).get("type") != "directory":
            raise _HubError(404, f"{path} does not exist on {revision}", code="EntryNotFound")
        recursive = self.query.get("recursive", ["false"])[0].lower() in ("1", "true")
        prefix = f"{path}/" if path else ""
        listing = [
            entry
            for key, entry in sorted(entries.items())
            if key.startswith(prefix) and (recursive or "/" not in key[len(prefix) :])
        ]
        self._send_json(listing)

    def _paths_info(self, plural, namespace, name, revision) -> None:
        repo = self._readable(plural, namespace, name)
        with self.hub._lock:
            commit = repo.resolve(revision)
        entries = self._tree_entries(commit)
        form = parse_qs(self.body.decode())
        self._send_json([entries[p] for p in form.get("paths", []) if p in entries])

    # Upload --------------------------------------------------------------------

    def _xet_token(self, plural, namespace, name, access, revision) -> None:
        """A Xet access token for the CAS routes; writing needs the repo's owner."""
        if access == "write":
            self._writable(plural, namespace, name)
        else:
            self._readable(plural, namespace, name)
        headers, payload = _shared_xet_store().token_response(self.hub.endpoint)
        self._send_json(payload, headers=headers)

    def _preupload(self, plural, namespace, name, revision) -> None:
        repo, _ = self._writable(plural, namespace, name)
        with self.hub._lock:
            commit = repo.resolve(revision)
        answers = []
        for item in json.loads(self.body)["files"]:
            path = item["path"]
            sample = base64.b64decode(item.get("sample", ""))
            existing = commit.files.get(path)
            answers.append(
                {
                    "path": path,
                    "uploadMode": self.hub._upload_mode(path, item["size"], sample),
                    "shouldIgnore": False,
                    "oid": existing.oid if existing else None,
                }
            )
        self._send_json({"files": answers, "commitOid": commit.oid})

    def _lfs_batch(self, plural, namespace, name) -> None:
        repo, _ = self._writable(plural, namespace, name)
        payload = json.loads(self.body)
        if payload.get("operation") != "upload":
            raise _HubError(400, "Only the upload operation is supported")
        verify_url = f"{self._url(repo)}.git/info/lfs/objects/verify"
        objects = []
        for item in payload["objects"]:
            answer = {"oid": item["oid"], "size": item["size"], "authenticated": True}
            if not self.hub._has_object(item["oid"], item["size"]):
                ticket = secrets.token_hex(16)
                with self.hub._lock:
                    self.hub._tickets[ticket] = (item["oid"], item["size"])
                answer["actions"] = {
                    "upload": {"href": f"{self.hub.endpoint}/lfs-upload/{ticket}", "header": {}},
                    "verify": {"href": verify_url, "header": {}},
                }
            objects.append(answer)
        self._send_json({"transfer": "basic", "objects": objects, "hash_algo": "sha256"})

    def _lfs_upload(self, ticket) -> None:
        with self.hub._lock:
            expected = self.hub._tickets.pop(ticket, None)
        if expected is None:
            raise _HubError(403, "Unknown or used upload ticket")
        oid, size = expected
        if len(self.body) != size or hashlib.sha256(self.body).hexdigest() != oid:
            raise _HubError(400, f"Uploaded bytes do not match oid {oid} and size {size}")
        self.hub._store(self.body)
        self._send(200, b"", {"ETag": f'"{oid}"'})

    def _lfs_verify(self, plural, namespace, name) -> None:
        self._writable(plural, namespace, name)
        payload = json.loads(self.body)
        if not self.hub._has_object(payload["oid"], payload["size"]):
            raise _HubError(404, f"LFS object {payload['oid']} was not uploaded")
        self._send_json({"success": True})

    def _commit(self, plural, namespace, name, revision) -> None:
        repo, user = self._writable(plural, namespace, name)
        if self.query.get("create_pr"):
            raise _HubError(400, "Pull requests are not supported by this test server")
        lines = [json.loads(line) for line in self.body.splitlines() if line.strip()]
        header = next((line["value"] for line in lines if line["key"] == "header"), {})
        with self.hub._lock:
            if revision not in repo.branches:
                raise _HubError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
            if self.hub._failures:
                raise _HubError(self.hub._failures.pop(0), "Injected commit failure")
            head = repo.resolve(revision)
            parent = header.get("parentCommit")
            if parent and parent != head.oid:
                raise _HubError(412, "A commit has happened since. Please refresh and try again.")
            files = dict(head.files)
            for line in lines:
                self._apply(line["key"], line["value"], files)
            commit = self.hub._new_commit(
                repo, head, files, header.get("summary", ""), header.get("description", ""), user
            )
        self._send_json(
            {
                "success": True,
                "commitOid": commit.oid,
                "commitUrl": f"{self._url(repo)}/commit/{commit.oid}",
                "pullRequestUrl": None,
            }
        )

    def _apply(self, key: str, value: dict, files: dict[str, StoredFile]) -> None:
        """Applies one NDJSON commit operation to `files`."""
        path = value.get("path", "")
        if key == "file":
            data = base64.b64decode(value["content"])
            files[path] = StoredFile.create(self.hub._store(data), len(data), False, data)
        elif key == "lfsFile":
            oid = value["oid"]
            size = value.get("size")
            if size is None:
                size = self.hub._object_path(oid).stat().st_size
            if not self.hub._has_object(oid, size):
                uploaded_by_xet = _shared_xet_store().find_sha256(oid)
                if uploaded_by_xet is not None:
                    self.hub._store(_shared_xet_store().reconstruct(uploaded_by_xet.file_hash))
            if not self.hub._has_object(oid, size):
                raise _HubError(400, f"LFS pointer {path} points to a missing object {oid}")
            files[path] = StoredFile.create(oid, size, True, None)
        elif key == "deletedFile":
            if files.pop(path, None) is None:
                raise _HubError(404, "A file with this name doesn't exist", code="EntryNotFound")
        elif key == "deletedFolder":
            prefix = path.rstrip("/") + "/"
            doomed = [p for p in files if p.startswith(prefix)]
            if not doomed:
                raise _HubError(404, "A folder with this name doesn't exist", code="EntryNotFound")
            for p in doomed:
                del files[p]
        elif key != "header":
            raise _HubError(400, f"Unknown commit operation {key!r}")

    # Download ------------------------------------------------------------------

    def _resolve(self, plural, namespace, name, revision, path) -> None:
        repo = self._readable(plural, namespace, name)
        with self.hub._lock:
            commit = repo.resolve(revision)
            stored = commit.files.get(path)
            corrupted = self.hub._corrupted.get((repo.repo_type, repo.repo_id, path))
        headers = {"X-Repo-Commit": commit.oid}
        if stored is None:
            raise _HubError(404, "Entry not found", code="EntryNotFound", headers=headers)
        headers["ETag"] = f'"{stored.etag}"'
        headers["Content-Type"] = "application/octet-stream"
        if stored.lfs:
            headers["X-Linked-Etag"] = f'"{stored.sha256}"'
            headers["X-Linked-Size"] = str(stored.size)
        if self.command == "HEAD":
            self._send(200, b"", headers, length=stored.size)
            return
        if corrupted is not None:
            body = corrupted
        else:
            body = self.hub._object_path(stored.sha256).read_bytes()
        self._send(200, body, headers)
