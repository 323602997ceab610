"""What the test Hub stores: repos, commits, files, and the errors it answers.

Used by `tests/hub_server.py` (the server and its test helpers) and
`tests/hub_routes.py` (the HTTP routes).
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tests.xet_cas import XetStore

DEFAULT_LFS_THRESHOLD = 10 * 1024 * 1024
"""Files at least this large go through LFS, as on the Hub (10 MiB)."""

LFS_SUFFIXES = (
    ".7z .arrow .bin .bz2 .ckpt .gz .h5 .joblib .keras .msgpack .npy .npz .onnx .parquet"
    " .pb .pickle .pkl .pt .pth .safetensors .tar .tflite .tgz .xz .zip .zst"
).split()
"""Suffixes tracked by LFS in the `.gitattributes` of a new repo (a subset of the Hub's)."""

GITATTRIBUTES = "".join(f"*{s} filter=lfs diff=lfs merge=lfs -text\n" for s in LFS_SUFFIXES)

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}
REPO_PATTERN = r"(?P<namespace>[^/]+)/(?P<name>[^/]+)"
API_REPO = r"/api/(?P<plural>models|datasets|spaces)/" + REPO_PATTERN
GIT_REPO = r"/(?:(?P<plural>datasets|spaces)/)?" + REPO_PATTERN


def git_blob_id(data: bytes) -> str:
    """The git object id of a blob, as `git hash-object` computes it."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def iso_time(moment: datetime) -> str:
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
            blob_id = git_blob_id(lfs_pointer(data_sha256, size))
        else:
            assert data is not None
            blob_id = git_blob_id(data)
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
            pointer_size = len(lfs_pointer(self.sha256, self.size))
            entry["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": pointer_size}
        return entry


def lfs_pointer(sha256: str, size: int) -> bytes:
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

    def tree_entries(self) -> dict[str, dict]:
        """Every file and folder of a commit, keyed by path, in Hub listing format."""
        entries = {path: stored.tree_entry(path) for path, stored in self.files.items()}
        folders: dict[str, list[str]] = {}
        for path, stored in self.files.items():
            parts = path.split("/")
            for depth in range(1, len(parts)):
                folders.setdefault("/".join(parts[:depth]), []).append(stored.blob_id)
        for folder, blob_ids in folders.items():
            tree_id = hashlib.sha1("".join(sorted(blob_ids)).encode()).hexdigest()
            entries[folder] = {"type": "directory", "oid": tree_id, "size": 0, "path": folder}
        return entries


@dataclass
class Repo:
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
            raise HubError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        return self.commits[oid]

    def history(self, revision: str) -> list[Commit]:
        """Commits reachable from `revision`, newest first."""
        commit: Commit | None = self.resolve(revision)
        history = []
        while commit is not None:
            history.append(commit)
            commit = self.commits[commit.parent] if commit.parent else None
        return history


class HubError(Exception):
    """An error answer: status, message, the `X-Error-Code` the client maps, and
    extra headers or JSON fields."""

    def __init__(self, status: int, message: str, code: str | None = None, headers=None, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}
        self.extra = extra


def not_found(user: str | None) -> HubError:
    # The Hub hides private repos: "not found", 401 without a token, 404 with one.
    return HubError(401 if user is None else 404, "Repository not found", "RepoNotFound")


_xet_store: XetStore | None = None


def shared_xet_store() -> XetStore:
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
