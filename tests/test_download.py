"""`download`: caching, atomic `.part` files, resuming with Range requests, clear errors.

A local HTTP server (127.0.0.1) stands in for the network; it answers Range requests and can
be told to cut the connection after some bytes.
"""

import os
import re
import socket

import pytest

from keras_gans.utils.download import DownloadError, download
from tests.http_fixtures import serve_files

PAYLOAD = os.urandom(300_000)


@pytest.fixture
def server():
    with serve_files({"/networks/weights.pkl": PAYLOAD}) as httpd:
        yield httpd


def _read(path):
    with open(path, "rb") as file:
        return file.read()


def test_downloads_once_then_serves_the_cached_file(server, tmp_path):
    url = f"{server.url}/networks/weights.pkl"
    path = download(url, str(tmp_path), timeout=5)
    assert _read(path) == PAYLOAD
    assert os.path.dirname(path) == str(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{8}-weights\.pkl", os.path.basename(path))
    assert os.listdir(tmp_path) == [os.path.basename(path)]  # no .part left behind
    assert server.requests == ["/networks/weights.pkl"] and server.ranges_asked == [None]

    assert download(url, str(tmp_path), timeout=5) == path
    assert len(server.requests) == 1  # the second call asked nothing

    named = download(url, str(tmp_path), filename="ffhq.pkl", timeout=5)
    assert named.endswith("-ffhq.pkl") and named != path and _read(named) == PAYLOAD


def test_two_urls_with_the_same_name_do_not_clash(server, tmp_path):
    server.files["/other/weights.pkl"] = b"other"
    first = download(f"{server.url}/networks/weights.pkl", str(tmp_path), timeout=5)
    second = download(f"{server.url}/other/weights.pkl", str(tmp_path), timeout=5)
    assert first != second and _read(second) == b"other"


@pytest.mark.parametrize("ranges", [True, False], ids=["range", "server-ignores-range"])
def test_a_cut_download_resumes_where_it_stopped(server, tmp_path, ranges):
    url = f"{server.url}/networks/weights.pkl"
    server.ranges, server.cut_after = ranges, 100_000
    with pytest.raises(DownloadError, match="100,000 of 300,000 bytes.*resumes") as caught:
        download(url, str(tmp_path), timeout=5)
    assert url in str(caught.value)
    (part,) = os.listdir(tmp_path)  # nothing but the .part
    assert part.endswith("-weights.pkl.part")
    assert os.path.getsize(tmp_path / part) == 100_000

    path = download(url, str(tmp_path), timeout=5)
    assert _read(path) == PAYLOAD
    assert server.ranges_asked[-1] == "bytes=100000-"
    assert os.listdir(tmp_path) == [os.path.basename(path)]


def test_a_complete_part_is_fetched_again_from_the_start(server, tmp_path):
    url = f"{server.url}/networks/weights.pkl"
    path = download(url, str(tmp_path), timeout=5)
    os.replace(path, path + ".part")  # as if killed between the last byte and the rename
    server.files["/networks/weights.pkl"] = PAYLOAD[:1000]  # the range is past its end: 416
    server.ranges = True
    assert _read(download(url, str(tmp_path), timeout=5)) == PAYLOAD[:1000]


def test_an_http_error_names_the_status(server, tmp_path):
    url = f"{server.url}/missing.pkl"
    with pytest.raises(DownloadError, match=r"could not download .*missing\.pkl: the server "):
        download(url, str(tmp_path), timeout=5)
    with pytest.raises(DownloadError, match="answered 404 Not Found"):
        download(url, str(tmp_path), timeout=5)
    assert os.listdir(tmp_path) == []


def test_a_refused_connection_says_what_to_do(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/weights.pkl"
    with pytest.raises(DownloadError, match=f"could not reach 127.0.0.1:{port} to download") as e:
        download(url, str(tmp_path), timeout=5)
    assert "Download it yourself and pass the local file path" in str(e.value)
    assert isinstance(e.value, OSError)
    assert not any(name.endswith("weights.pkl") for name in os.listdir(tmp_path))


def test_file_urls_and_bad_arguments(tmp_path):
    source = tmp_path / "local.bin"
    source.write_bytes(b"local bytes")
    path = download(source.as_uri(), str(tmp_path / "cache"))
    assert _read(path) == b"local bytes" and path.endswith("-local.bin")
    with pytest.raises(DownloadError, match="could not download"):
        download((tmp_path / "absent.bin").as_uri(), str(tmp_path / "cache"))
    with pytest.raises(ValueError, match="`url` must be an http"):
        download("ftp://example.com/weights.pkl", str(tmp_path))
    with pytest.raises(ValueError, match="`filename` must be a plain file name"):
        download(source.as_uri(), str(tmp_path), filename="../escape.pkl")


def test_the_default_folder_is_the_keras_gans_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_GANS_CACHE", str(tmp_path))
    source = tmp_path / "local.bin"
    source.write_bytes(b"x")
    path = download(source.as_uri(), progress=True)
    assert os.path.dirname(path) == str(tmp_path / "downloads")
