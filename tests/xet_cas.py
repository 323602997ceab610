"""Server side of the Hugging Face Xet storage protocol, in pure Python (standard library only).

Enough for the real `huggingface_hub` + `hf_xet` client to upload files through Xet to a
local server, and for that server to rebuild each uploaded file byte for byte.

Upload flow, as hf_xet 1.8.0 runs it (`{cas}` is the `casUrl` the token endpoint gives):

1. `GET {hub}/api/{type}s/{repo}/xet-write-token/{rev}` (Hub route, see `token_response`):
   JSON `{"casUrl", "accessToken", "exp"}`; the same values as `X-Xet-*` headers.
2. `GET {cas}/v1/chunks/default/{chunk_hash}`: global dedup query; 404 = unknown chunk.
3. `POST {cas}/v1/xorb-grants/default/{xorb_hash}`: asks for a presigned upload grant;
   404 makes the client fall back to `POST {cas}/v1/xorbs/default/{xorb_hash}` with the
   serialized xorb (see `parse_xorb`); answer `{"was_inserted": bool}`.
4. `POST {cas}/v2/shards`; 404 makes the client fall back to `POST {cas}/v1/shards` with
   the session's shard, footer cut (see `parse_shard`); answer `{"result": 1}` (0: known).
5. `POST {hub}/api/{type}s/{repo}/commit/{rev}` with `lfsFile` lines whose `oid` is the
   sha256 of the file: the Hub looks the file up with `XetStore.find_sha256`.

CAS requests carry `Authorization: Bearer {accessToken}`. Hashes travel as 64 hex digits in
Xet's own order: each of the four little-endian u64 words of the 32 raw bytes is printed
big-endian (`hash_hex`).

Not done: chunk and xorb hashes (keyed blake3 + merkle tree) are not recomputed, so a xorb
is trusted to match its name; each rebuilt file is checked against its sha256 instead.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path

XORB_IDENT = b"XETBLOB"
# "HFRepoMetaData\0" then 17 magic bytes: the 32-byte tag opening every shard.
SHARD_TAG = b"HFRepoMetaData\x00UigEj{\x81W\x83\xa5\xbd\xd9\\\xcd\xd1J\xa9"
_BOOKEND = b"\xff" * 32
_FLAG_VERIFICATION = 1 << 31
_FLAG_METADATA_EXT = 1 << 30
_HEX64 = r"(?P<hash>[0-9a-f]{64})"


class XetError(Exception):
    """A request the CAS refuses; `status` is the HTTP status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def hash_hex(raw: bytes) -> str:
    """The hex form Xet uses for a 32-byte hash (URLs, JSON): four u64 LE words, each big-endian."""
    return b"".join(raw[i : i + 8][::-1] for i in range(0, 32, 8)).hex()


# Compression ---------------------------------------------------------------------------


def _extended_length(src: bytes, i: int, length: int) -> tuple[int, int]:
    """An LZ4 length whose 4-bit field is 15 goes on in bytes until one is not 255."""
    if length == 15:
        while True:
            extra = src[i]
            i += 1
            length += extra
            if extra != 255:
                break
    return length, i


def _lz4_block(src: bytes, out: bytearray) -> None:
    """Decodes one LZ4 block, appending to `out` (earlier output serves as the dictionary)."""
    i, n = 0, len(src)
    while i < n:
        token = src[i]
        i += 1
        length, i = _extended_length(src, i, token >> 4)
        out += src[i : i + length]
        i += length
        if i >= n:  # the last sequence holds literals only
            return
        offset = src[i] | src[i + 1] << 8
        i += 2
        length, i = _extended_length(src, i, token & 15)
        length += 4
        start = len(out) - offset
        if offset == 0 or start < 0:
            raise XetError(400, "LZ4 match offset out of range")
        if offset >= length:
            out += out[start : start + length]
        else:  # overlapping copy: the last `offset` bytes repeat
            pattern = bytes(out[start:])
            out += (pattern * (length // offset + 1))[:length]


def lz4_frame_decompress(data: bytes) -> bytes:
    """Decodes LZ4 frames (magic 0x184D2204), as written by the Rust `lz4_flex` FrameEncoder."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        if struct.unpack_from("<I", data, pos)[0] != 0x184D2204:
            raise XetError(400, "not an LZ4 frame")
        flg = data[pos + 4]
        pos += (
            6 + (8 if flg & 0x08 else 0) + (4 if flg & 0x01 else 0) + 1
        )  # FLG BD [size] [dict] HC
        while True:
            (size,) = struct.unpack_from("<I", data, pos)
            pos += 4
            if size == 0:  # end mark
                break
            block, pos = data[pos : pos + (size & 0x7FFFFFFF)], pos + (size & 0x7FFFFFFF)
            if size & 0x80000000:  # stored uncompressed
                out += block
            else:
                _lz4_block(block, out)
            pos += 4 if flg & 0x10 else 0  # block checksum
        pos += 4 if flg & 0x04 else 0  # content checksum
    return bytes(out)


def decompress_chunk(scheme: int, payload: bytes) -> bytes:
    """Undoes a chunk's compression: 0 none, 1 LZ4 frame, 2 byte-grouping-4 then LZ4 frame."""
    if scheme == 0:
        return payload
    if scheme not in (1, 2):
        raise XetError(400, f"unknown chunk compression scheme {scheme}")
    try:
        data = lz4_frame_decompress(payload)
    except (IndexError, struct.error):
        raise XetError(400, "truncated LZ4 data") from None
    if scheme == 1:
        return data
    out, pos = bytearray(len(data)), 0
    for k in range(4):  # group k holds bytes k, k+4, k+8, ... of the chunk
        size = (len(data) - k + 3) // 4
        out[k::4] = data[pos : pos + size]
        pos += size
    return bytes(out)


# Xorbs ---------------------------------------------------------------------------------


def parse_xorb(data: bytes) -> tuple[str | None, list[bytes]]:
    """Splits a serialized xorb into (xorb hash named by its footer or None, decompressed chunks).

    Layout: chunks, each an 8-byte header (u8 version=0, u24 LE compressed length, u8 scheme,
    u24 LE uncompressed length) then the compressed bytes. The client uploads only that; a
    stored xorb may also end with a footer ("XETBLOB", u8 version=1, 32-byte xorb hash, hash
    and boundary sections, u32 num_chunks, two u32 section offsets, 16-byte buffer) and the
    u32 LE length of that footer, which is then checked against the chunks.
    """
    chunks, pos, end = [], 0, len(data)
    while pos < end and data[pos : pos + 7] != XORB_IDENT:
        if pos + 8 > end:
            raise XetError(400, f"truncated chunk header at byte {pos}")
        version, clen_lo, clen_hi, scheme, ulen_lo, ulen_hi = struct.unpack_from(
            "<BHBBHB", data, pos
        )
        clen, ulen = clen_lo | clen_hi << 16, ulen_lo | ulen_hi << 16
        if version != 0 or pos + 8 + clen > end:
            raise XetError(400, f"bad chunk header at byte {pos}")
        chunk = decompress_chunk(scheme, data[pos + 8 : pos + 8 + clen])
        if len(chunk) != ulen:
            raise XetError(400, f"chunk at byte {pos} unpacks to {len(chunk)} bytes, not {ulen}")
        chunks.append(chunk)
        pos += 8 + clen
    if pos == end:
        return None, chunks
    if end - pos < 96:  # the smallest footer (no chunks) and its length field
        raise XetError(400, "xorb footer truncated")
    (footer_len,) = struct.unpack_from("<I", data, end - 4)
    (num_chunks,) = struct.unpack_from("<I", data, end - 32)
    if data[pos + 7] != 1 or footer_len != end - 4 - pos or num_chunks != len(chunks):
        raise XetError(400, "xorb footer does not match its chunks")
    return hash_hex(data[pos + 8 : pos + 40]), chunks


# Shards --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """Chunks [start, end) of one xorb, `size` bytes once unpacked."""

    xorb_hash: str
    start: int
    end: int
    size: int


@dataclass(frozen=True)
class FileInfo:
    """How to rebuild a file: its Xet hash, its segments in order, its declared sha256."""

    file_hash: str
    segments: tuple[Segment, ...]
    sha256: str | None

    @property
    def size(self) -> int:
        return sum(s.size for s in self.segments)


def parse_shard(data: bytes) -> tuple[list[FileInfo], dict[str, int]]:
    """Reads an uploaded shard: (file reconstructions, {new xorb hash: number of chunks}).

    Layout (all little-endian, every record 48 bytes): header = 32-byte tag, u64 version=2,
    u64 footer size (0 when uploaded: the client cuts the lookup tables and footer). File info
    section: per file a header (32-byte file hash, u32 flags, u32 n, u64 unused), n segments
    (32-byte xorb hash, u32 flags, u32 unpacked bytes, u32 chunk start, u32 chunk end
    exclusive), n verification records if flags bit 31, one metadata record (32-byte sha256,
    16 unused) if flags bit 30; ends with a header whose hash is all 0xFF. Xorb info section:
    per xorb a header (32-byte hash, u32 flags, u32 n, u32 unpacked bytes, u32 stored bytes)
    and n chunk records (32-byte chunk hash, u32 byte start, u32 unpacked bytes, u32 flags,
    u32 unused); ends with an all-0xFF hash.
    """
    if data[:32] != SHARD_TAG or data[32:40] != struct.pack("<Q", 2):
        raise XetError(400, "not a version 2 shard")
    pos, files, xorbs = 48, [], {}
    try:
        while data[pos : pos + 32] != _BOOKEND:
            file_hash = hash_hex(data[pos : pos + 32])
            flags, count = struct.unpack_from("<II", data, pos + 32)
            segments = []
            for _ in range(count):
                pos += 48
                _, size, start, end = struct.unpack_from("<IIII", data, pos + 32)
                segments.append(Segment(hash_hex(data[pos : pos + 32]), start, end, size))
            pos += 48 + (48 * count if flags & _FLAG_VERIFICATION else 0)
            sha256 = None
            if flags & _FLAG_METADATA_EXT:
                sha256 = hash_hex(data[pos : pos + 32])
                pos += 48
            files.append(FileInfo(file_hash, tuple(segments), sha256))
        pos += 48
        while data[pos : pos + 32] != _BOOKEND:
            (count,) = struct.unpack_from("<I", data, pos + 36)
            xorbs[hash_hex(data[pos : pos + 32])] = count
            pos += 48 * (1 + count)
        struct.unpack_from("<48x", data, pos)  # the whole closing bookend record
    except struct.error:
        raise XetError(400, "truncated shard") from None
    return files, xorbs


# Storage and request handling ------------------------------------------------------------


class XetStore:
    """Xorbs on disk plus the file reconstructions registered by shards; thread-safe.

    Args:
        root: folder for the xorbs (created if missing).
        prefix: URL path under which the CAS routes live on the Hub server, e.g. "/xet-cas";
            the `casUrl` handed to clients is the Hub endpoint plus this prefix.
        token_ttl: lifetime of issued access tokens, in seconds.
    """

    def __init__(self, root: Path, prefix: str = "/xet-cas", token_ttl: int = 3600):
        self.root = Path(root)
        (self.root / "xorbs").mkdir(parents=True, exist_ok=True)
        self.prefix = prefix.rstrip("/")
        self.token_ttl = token_ttl
        self._lock = threading.Lock()
        self._tokens: dict[str, int] = {}
        self._xorb_chunks: dict[str, int] = {}
        self._files: dict[str, FileInfo] = {}
        self._by_sha256: dict[str, str] = {}

    # Hub side --------------------------------------------------------------------------

    def token_response(self, hub_endpoint: str) -> tuple[dict[str, str], dict]:
        """(headers, JSON body) answering `GET /api/{type}s/{repo}/xet-{read|write}-token/{rev}`.

        hf_xet reads the JSON body; huggingface_hub's own helper reads the headers.
        """
        token, exp = secrets.token_urlsafe(24), int(time.time()) + self.token_ttl
        with self._lock:
            self._tokens[token] = exp
        cas_url = hub_endpoint.rstrip("/") + self.prefix
        headers = {
            "X-Xet-Cas-Url": cas_url,
            "X-Xet-Access-Token": token,
            "X-Xet-Token-Expiration": str(exp),
        }
        return headers, {"casUrl": cas_url, "accessToken": token, "exp": exp}

    def find_sha256(self, sha256: str) -> FileInfo | None:
        """The uploaded file whose content has this sha256 (an `lfsFile` oid), if any."""
        with self._lock:
            file_hash = self._by_sha256.get(sha256)
            return self._files[file_hash] if file_hash else None

    def reconstruct(self, file_hash: str) -> bytes:
        """The bytes of a file registered by a shard, rebuilt from its xorbs' chunks."""
        with self._lock:
            info = self._files.get(file_hash)
        if info is None:
            raise XetError(404, f"unknown file {file_hash}")
        return self._rebuild(info)

    # CAS side --------------------------------------------------------------------------

    def put_xorb(self, xorb_hash: str, body: bytes) -> bool:
        """Stores a serialized xorb after parsing it; False if it was already stored."""
        footer_hash, chunks = parse_xorb(body)
        if footer_hash not in (None, xorb_hash):
            raise XetError(400, f"xorb footer names {footer_hash}, URL names {xorb_hash}")
        with self._lock:
            if xorb_hash in self._xorb_chunks:
                return False
            path = self.root / "xorbs" / xorb_hash
            partial = path.with_name(f"{xorb_hash}.{secrets.token_hex(4)}.tmp")
            partial.write_bytes(body)
            partial.replace(path)
            self._xorb_chunks[xorb_hash] = len(chunks)
        return True

    def put_shard(self, body: bytes) -> bool:
        """Registers the files of a shard after rebuilding each and checking its sha256.

        Returns False when every file of the shard was already known.
        """
        files, xorbs = parse_shard(body)
        with self._lock:
            for xorb_hash, count in xorbs.items():
                if self._xorb_chunks.get(xorb_hash) != count:
                    raise XetError(
                        400, f"shard lists xorb {xorb_hash} ({count} chunks), not stored as such"
                    )
        new = False
        for info in files:
            sha256 = hashlib.sha256(self._rebuild(info)).hexdigest()
            if info.sha256 is not None and info.sha256 != sha256:
                raise XetError(
                    400, f"file {info.file_hash} rebuilds to sha256 {sha256}, not {info.sha256}"
                )
            with self._lock:
                new |= info.file_hash not in self._files
                self._files[info.file_hash] = info
                self._by_sha256[sha256] = info.file_hash
        return new

    def _rebuild(self, info: FileInfo) -> bytes:
        parts, cache = [], {}
        for seg in info.segments:
            if seg.xorb_hash not in cache:
                path = self.root / "xorbs" / seg.xorb_hash
                if not path.exists():
                    raise XetError(400, f"file {info.file_hash} needs missing xorb {seg.xorb_hash}")
                cache[seg.xorb_hash] = parse_xorb(path.read_bytes())[1]
            chunks = cache[seg.xorb_hash]
            if not 0 <= seg.start < seg.end <= len(chunks):
                raise XetError(400, f"chunks [{seg.start}, {seg.end}) out of xorb {seg.xorb_hash}")
            data = b"".join(chunks[seg.start : seg.end])
            if len(data) != seg.size:
                raise XetError(
                    400, f"segment of xorb {seg.xorb_hash} is {len(data)} bytes, not {seg.size}"
                )
            parts.append(data)
        return b"".join(parts)

    def _authorized(self, headers) -> bool:
        scheme, _, token = (headers.get("Authorization") or "").partition(" ")
        with self._lock:
            return scheme.lower() == "bearer" and self._tokens.get(token, 0) > time.time()

    def handle(
        self, method: str, path: str, headers, body: bytes
    ) -> tuple[int, dict[str, str], bytes] | None:
        """Answers a CAS request as (status, headers, body); None if `path` is not a CAS route.

        `path` is the request path without query; `headers` any mapping with `.get` (e.g. a
        `BaseHTTPRequestHandler`'s `self.headers`); `body` the whole request body.
        """
        if not path.startswith(self.prefix + "/"):
            return None
        route = path[len(self.prefix) :]
        try:
            if not self._authorized(headers):
                raise XetError(401, "missing, unknown or expired Xet access token")
            if method == "POST" and (match := re.fullmatch(r"/v1/xorbs/default/" + _HEX64, route)):
                return _json(200, {"was_inserted": self.put_xorb(match["hash"], body)})
            if method == "POST" and route == "/v1/shards":
                return _json(200, {"result": 1 if self.put_shard(body) else 0})
            if method == "POST" and re.fullmatch(r"/v1/xorb-grants/[^/]+/" + _HEX64, route):
                raise XetError(404, "no upload grants here: POST the xorb to /v1/xorbs")
            if method == "GET" and re.fullmatch(r"/v1/chunks/[^/]+/" + _HEX64, route):
                raise XetError(404, "chunk not tracked by global deduplication")
            if method == "POST" and route == "/v1/telemetry":
                return _json(200, {})
            if method == "POST" and route == "/v2/shards":
                raise XetError(404, "shard upload v2 not supported, use /v1/shards")
            raise XetError(404, f"no CAS route {method} {route}")
        except XetError as error:
            return _json(error.status, {"error": str(error)})


def _json(status: int, payload: dict) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()
