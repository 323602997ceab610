"""The HTTP routes of the test Hub: one `HubRequestHandler` method per Hub endpoint.

`tests/hub_server.py` documents the endpoints and runs the server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from tests.hub_store import (
    API_REPO,
    GIT_REPO,
    GITATTRIBUTES,
    REPO_TYPES,
    URL_PREFIXES,
    Commit,
    HubError,
    Repo,
    StoredFile,
    iso_time,
    not_found,
    shared_xet_store,
)

if TYPE_CHECKING:
    from tests.hub_server import HubServer


logger = logging.getLogger(__name__)


class HubRequestHandler(BaseHTTPRequestHandler):
    """Routes one HTTP request to a `HubServer` operation."""

    protocol_version = "HTTP/1.1"
    server_version = "HubServer/1.0"

    ROUTES = [
        ("GET", r"/api/whoami-v2", "whoami"),
        ("POST", r"/api/repos/create", "create_repo"),
        ("DELETE", r"/api/repos/delete", "delete_repo"),
        ("POST", r"/api/validate-yaml", "validate_yaml"),
        ("GET", API_REPO + r"(?:/revision/(?P<revision>[^/]+))?", "repo_info"),
        ("POST", API_REPO + r"/preupload/(?P<revision>[^/]+)", "preupload"),
        ("GET", API_REPO + r"/xet-(?P<access>read|write)-token/(?P<revision>[^/]+)", "xet_token"),
        ("POST", API_REPO + r"/commit/(?P<revision>[^/]+)", "commit"),
        ("GET", API_REPO + r"/tree/(?P<revision>[^/]+)(?:/(?P<path>.+))?", "tree"),
        ("POST", API_REPO + r"/paths-info/(?P<revision>[^/]+)", "paths_info"),
        ("GET", API_REPO + r"/commits/(?P<revision>[^/]+)", "list_commits"),
        ("GET", API_REPO + r"/refs", "refs"),
        ("POST", GIT_REPO + r"\.git/info/lfs/objects/batch", "lfs_batch"),
        ("POST", GIT_REPO + r"\.git/info/lfs/objects/verify", "lfs_verify"),
        ("PUT", r"/lfs-upload/(?P<ticket>[0-9a-f]+)", "lfs_upload"),
        ("GET", GIT_REPO + r"/resolve/(?P<revision>[^/]+)/(?P<path>.+)", "resolve"),
        ("HEAD", GIT_REPO + r"/resolve/(?P<revision>[^/]+)/(?P<path>.+)", "resolve"),
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
            answer = shared_xet_store().handle(self.command, url.path, self.headers, self.body)
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
            raise HubError(404, f"No route for {self.command} {url.path}")
        except HubError as error:
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
            raise HubError(401, "Invalid credentials in Authorization header")
        return user

    def _readable(self, plural: str | None, namespace: str, name: str) -> Repo:
        user = self._user()
        repo = self.hub._repos.get((REPO_TYPES[plural or "models"], f"{namespace}/{name}"))
        if repo is None or (repo.private and user != repo.owner):
            raise not_found(user)
        return repo

    def _writable(self, plural: str | None, namespace: str, name: str) -> tuple[Repo, str]:
        user = self._user()
        repo = self.hub._repos.get((REPO_TYPES[plural or "models"], f"{namespace}/{name}"))
        if user is None or repo is None or (repo.private and user != repo.owner):
            raise not_found(user)
        if user != repo.owner:
            raise HubError(403, f"You don't have the rights to write to {repo.repo_id}")
        return repo, user

    def _url(self, repo: Repo) -> str:
        return f"{self.hub.endpoint}/{URL_PREFIXES[repo.repo_type]}{repo.repo_id}"

    # Users and repos -------------------------------------------------------------

    def _whoami(self) -> None:
        user = self._user()
        if user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
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
            raise HubError(401, "You must be authenticated to create a repo")
        payload = json.loads(self.body)
        repo_type = payload.get("type") or "model"
        namespace = payload.get("organization") or user
        if namespace != user:
            raise HubError(403, f"You don't have the rights to create a repo in {namespace}")
        repo_id = f"{namespace}/{payload['name']}"
        private = payload.get("visibility", "private" if payload.get("private") else "public")
        with self.hub._lock:
            repo = Repo(repo_type, repo_id, private != "public", datetime.now(timezone.utc))
            if (repo_type, repo_id) in self.hub._repos:
                # Like the Hub, the conflict answer carries the url: exist_ok uses it.
                message = f"You already created this {repo_type} repo"
                raise HubError(409, message, url=self._url(repo))
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
                "lastModified": iso_time(commit.date),
                "createdAt": iso_time(repo.created_at),
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

    def _card_data(self, repo: Repo, commit: Commit) -> dict:
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
                    "date": iso_time(commit.date),
                }
                for commit in history
            ]
        )

    # Tree listing ----------------------------------------------------------------

    def _tree(self, plural, namespace, name, revision, path) -> None:
        repo = self._readable(plural, namespace, name)
        with self.hub._lock:
            commit = repo.resolve(revision)
        entries = commit.tree_entries()
        path = path or ""
        if path and entries.get(path, {}).get("type") != "directory":
            raise HubError(404, f"{path} does not exist on {revision}", code="EntryNotFound")
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
        entries = commit.tree_entries()
        form = parse_qs(self.body.decode())
        self._send_json([entries[p] for p in form.get("paths", []) if p in entries])

    # Upload --------------------------------------------------------------------

    def _xet_token(self, plural, namespace, name, access, revision) -> None:
        """A Xet access token for the CAS routes; writing needs the repo's owner."""
        if access == "write":
            self._writable(plural, namespace, name)
        else:
            self._readable(plural, namespace, name)
        headers, payload = shared_xet_store().token_response(self.hub.endpoint)
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
            raise HubError(400, "Only the upload operation is supported")
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
            raise HubError(403, "Unknown or used upload ticket")
        oid, size = expected
        if len(self.body) != size or hashlib.sha256(self.body).hexdigest() != oid:
            raise HubError(400, f"Uploaded bytes do not match oid {oid} and size {size}")
        self.hub._store(self.body)
        self._send(200, b"", {"ETag": f'"{oid}"'})

    def _lfs_verify(self, plural, namespace, name) -> None:
        self._writable(plural, namespace, name)
        payload = json.loads(self.body)
        if not self.hub._has_object(payload["oid"], payload["size"]):
            raise HubError(404, f"LFS object {payload['oid']} was not uploaded")
        self._send_json({"success": True})

    def _commit(self, plural, namespace, name, revision) -> None:
        repo, user = self._writable(plural, namespace, name)
        if self.query.get("create_pr"):
            raise HubError(400, "Pull requests are not supported by this test server")
        lines = [json.loads(line) for line in self.body.splitlines() if line.strip()]
        header = next((line["value"] for line in lines if line["key"] == "header"), {})
        with self.hub._lock:
            if revision not in repo.branches:
                raise HubError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
            if self.hub._failures:
                raise HubError(self.hub._failures.pop(0), "Injected commit failure")
            head = repo.resolve(revision)
            parent = header.get("parentCommit")
            if parent and parent != head.oid:
                raise HubError(412, "A commit has happened since. Please refresh and try again.")
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
                uploaded_by_xet = shared_xet_store().find_sha256(oid)
                if uploaded_by_xet is not None:
                    self.hub._store(shared_xet_store().reconstruct(uploaded_by_xet.file_hash))
            if not self.hub._has_object(oid, size):
                raise HubError(400, f"LFS pointer {path} points to a missing object {oid}")
            files[path] = StoredFile.create(oid, size, True, None)
        elif key == "deletedFile":
            if files.pop(path, None) is None:
                raise HubError(404, "A file with this name doesn't exist", code="EntryNotFound")
        elif key == "deletedFolder":
            prefix = path.rstrip("/") + "/"
            doomed = [p for p in files if p.startswith(prefix)]
            if not doomed:
                raise HubError(404, "A folder with this name doesn't exist", code="EntryNotFound")
            for p in doomed:
                del files[p]
        elif key != "header":
            raise HubError(400, f"Unknown commit operation {key!r}")

    # Download ------------------------------------------------------------------

    def _resolve(self, plural, namespace, name, revision, path) -> None:
        repo = self._readable(plural, namespace, name)
        with self.hub._lock:
            commit = repo.resolve(revision)
            stored = commit.files.get(path)
            corrupted = self.hub._corrupted.get((repo.repo_type, repo.repo_id, path))
        headers = {"X-Repo-Commit": commit.oid}
        if stored is None:
            raise HubError(404, "Entry not found", code="EntryNotFound", headers=headers)
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
