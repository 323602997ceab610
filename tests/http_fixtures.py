"""A local HTTP server (127.0.0.1) standing in for the network: files, Range requests, cut-offs.

Example:

```python
with serve_files({"/nets/g.pkl": data}) as server:
    download(f"{server.url}/nets/g.pkl")
    server.requests            # ["/nets/g.pkl"]
```
"""

import contextlib
import http.server
import os
import re
import threading


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves `server.files`; honours `Range: bytes=N-` unless `server.ranges` is False."""

    def do_GET(self):
        server = self.server
        asked = self.headers.get("Range")
        server.requests.append(self.path)
        server.ranges_asked.append(asked)
        data = server.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        match = re.fullmatch(r"bytes=(\d+)-", asked or "")
        start = int(match.group(1)) if match and server.ranges else 0
        if start and start >= len(data):
            self.send_error(416)
            return
        body = data[start:]
        self.send_response(206 if match and server.ranges else 200)
        self.send_header("Content-Length", str(len(body)))
        if match and server.ranges:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if server.cut_after is not None:  # send part of the body, then hang up
            body, server.cut_after = body[: server.cut_after], None
            self.close_connection = True
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_files(files: dict):
    """Serves `{path: bytes}` on 127.0.0.1 while the block runs.

    The server has `url`, `requests` (paths asked, in order), `ranges_asked` (their Range
    headers), `ranges` (set False to ignore Range) and `cut_after` (bytes sent before the
    next answer hangs up).
    """
    saved = {key: os.environ.get(key) for key in ("no_proxy", "NO_PROXY")}
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = "*"
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.files = dict(files)
    httpd.requests, httpd.ranges_asked, httpd.ranges, httpd.cut_after = [], [], True, None
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
