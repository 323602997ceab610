"""Downloads a file once into the keras-gans cache: atomic, resumable, standard library only.

The data goes to `<name>.part` and is renamed to its final name only once complete, so the
final path never holds a partial file. A download that stops leaves its `.part`; the next call
asks the server for the rest (an HTTP `Range` request) and appends it.

Example:

```python
from keras_gans.utils.download import download

path = download("https://example.com/networks/stylegan2-ffhq-256x256.pkl", progress=True)
path == download("https://example.com/networks/stylegan2-ffhq-256x256.pkl")  # cached: no request
```
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from keras_gans.utils import files

CHUNK_BYTES = 1 << 20
PART_SUFFIX = ".part"


class DownloadError(OSError):
    """A download that failed: an HTTP error status, an unreachable host or a cut connection."""


def cached_path(url: str, cache_dir: str | None = None, *, filename: str | None = None) -> str:
    """Where `download` keeps `url`: `<cache_dir>/<8 hex digits of the URL's hash>-<name>`.

    Args:
        url: the URL (only its text is used: nothing is fetched).
        cache_dir: the folder; `files.cache_dir("downloads")` when None.
        filename: the name to use instead of the URL's last path part.

    Returns:
        The path, whether or not the file is there yet.

    Example:

    ```python
    cached_path("https://example.com/a/network.pkl")
    # ~/.cache/keras_gans/downloads/1a2b3c4d-network.pkl
    ```
    """
    parts = _parse(url)
    if filename is None:
        filename = os.path.basename(urllib.parse.unquote(parts.path)) or "download"
    elif not filename or os.path.basename(filename) != filename or filename in (".", ".."):
        raise ValueError(f"download: `filename` must be a plain file name, got {filename!r}")
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
    return os.path.join(cache_dir or files.cache_dir("downloads"), f"{digest}-{filename}")


def download(
    url: str,
    cache_dir: str | None = None,
    *,
    filename: str | None = None,
    progress: bool = False,
    timeout: float = 30,
) -> str:
    """Downloads `url` once and returns the local path; later calls return it without a request.

    Args:
        url: an `http://`, `https://` or `file://` URL.
        cache_dir: the folder to keep it in; `files.cache_dir("downloads")` when None.
        filename: the file's name (the URL's last path part when None); a short hash of the URL
            is prefixed either way, so two URLs never share a file.
        progress: print a one-line progress report to stderr.
        timeout: seconds to wait for the server on connecting and on each read.

    Returns:
        The path of the complete file.

    Raises:
        ValueError: `url` is not an http(s) or file URL, or `filename` is not a plain name.
        DownloadError: the server answered an error status, could not be reached, or the
            connection stopped before the end (the data so far is kept for the next call).

    Example:

    ```python
    path = download("https://example.com/network.pkl", filename="ffhq.pkl")
    ```
    """
    final = cached_path(url, cache_dir, filename=filename)
    if os.path.isfile(final):
        return final
    os.makedirs(os.path.dirname(final), exist_ok=True)
    part = final + PART_SUFFIX
    offset = os.path.getsize(part) if os.path.isfile(part) else 0
    response = _open(url, offset, timeout)
    status = getattr(response, "status", None) or 200  # file:// responses have none
    if offset and (response is None or (status == 206 and not _resumes_at(response, offset))):
        # No bytes after `offset` (416), or another range than asked for: start again.
        if response is not None:
            response.close()
        offset, response = 0, _open(url, 0, timeout)
        status = getattr(response, "status", None) or 200
    with response:
        if status != 206:
            offset = 0  # a full answer (the server ignored the range): write from the start
        total = _total(response, offset)
        _receive(response, url, part, offset, total, progress)
    os.replace(part, final)
    return final


def _parse(url: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or not (
        (parts.scheme in ("http", "https") and parts.netloc)
        or (parts.scheme == "file" and parts.path)
    ):
        raise ValueError(
            f"download: `url` must be an http://, https:// or file:// URL, got {url!r}"
        )
    return parts


def _host(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.hostname}{port}" if parts.hostname else url


def _open(url: str, offset: int, timeout: float):
    """The server's response, asking for the bytes from `offset` on; None on a 416 to a range."""
    headers = {"User-Agent": "keras-gans"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 416 and offset:
            return None
        raise DownloadError(
            f"could not download {url}: the server answered {error.code} {error.reason}"
        ) from None
    except urllib.error.URLError as error:
        reason = getattr(error.reason, "strerror", None) or str(error.reason)
        if url.startswith("file:"):
            raise DownloadError(f"could not download {url}: {reason}") from None
        raise DownloadError(
            f"could not reach {_host(url)} to download {url} ({reason}). Download it yourself "
            "and pass the local file path."
        ) from None
    except (OSError, http.client.HTTPException) as error:  # e.g. a timeout while connecting
        raise DownloadError(
            f"could not reach {_host(url)} to download {url} ({error or type(error).__name__}). "
            "Download it yourself and pass the local file path."
        ) from None


def _resumes_at(response, offset: int) -> bool:
    """Whether a 206 answer's Content-Range starts where the `.part` ends."""
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return bool(match) and int(match.group(1)) == offset


def _total(response, offset: int) -> int | None:
    """The complete file's size, from Content-Range (`bytes 0-9/10`) or Content-Length."""
    match = re.fullmatch(r"bytes \d+-\d+/(\d+)", response.headers.get("Content-Range", ""))
    if match:
        return int(match.group(1))
    length = response.headers.get("Content-Length", "")
    return offset + int(length) if length.isdigit() else None


def _receive(response, url: str, part: str, offset: int, total: int | None, progress: bool):
    """Writes the response body to `part` (appending after `offset` bytes), checking its size."""
    received, shown = offset, 0.0
    try:
        with open(part, "ab" if offset else "wb") as file:
            while chunk := response.read(CHUNK_BYTES):
                file.write(chunk)
                received += len(chunk)
                if progress and time.monotonic() - shown > 0.2:
                    shown = time.monotonic()
                    _show(url, received, total)
    except (OSError, http.client.HTTPException) as error:
        stopped = f"stopped after {received:,} bytes ({error or type(error).__name__})"
    else:
        if total is None or received == total:
            if progress:
                _show(url, received, total, end="\n")
            return
        stopped = f"ended after {received:,} of {total:,} bytes"
    if progress:
        sys.stderr.write("\n")
    raise DownloadError(
        f"could not download {url}: the connection {stopped}; the part received is kept in "
        f"{part} and the next call resumes from there"
    )


def _show(url: str, received: int, total: int | None, end: str = "") -> None:
    name = os.path.basename(urllib.parse.urlsplit(url).path) or url
    done = f"{received / 1e6:,.1f} MB"
    if total:
        done += f" of {total / 1e6:,.1f} MB ({100 * received // total}%)"
    sys.stderr.write(f"\rdownloading {name}: {done}{end}")
    sys.stderr.flush()
