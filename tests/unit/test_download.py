"""Real download code against a local HTTP server (with Range support) and file:// URLs; no network."""

import hashlib
import http.server
import threading
import zipfile

import pytest

from benchmark.data.download import DownloadError, extract_members, fetch

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class RangeHandler(http.server.BaseHTTPRequestHandler):
    requests: list = []

    def do_GET(self):  # noqa: N802
        RangeHandler.requests.append(self.headers.get("Range"))
        body, status = PAYLOAD, 200
        if self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].rstrip("-"))
            body, status = PAYLOAD[start:], 206
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    RangeHandler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/file.bin"
    httpd.shutdown()


def test_http_download_verifies_and_is_atomic(server, tmp_path):
    dest = fetch(server, tmp_path / "file.bin", sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "file.bin.part").exists()


def test_http_download_resumes_from_partial_file(server, tmp_path):
    (tmp_path / "file.bin.part").write_bytes(PAYLOAD[:1000])
    fetch(server, tmp_path / "file.bin", sha256=SHA, progress=False)
    assert RangeHandler.requests == ["bytes=1000-"]
    assert (tmp_path / "file.bin").read_bytes() == PAYLOAD


def test_checksum_mismatch_raises_and_leaves_nothing(server, tmp_path):
    with pytest.raises(DownloadError, match="does not match the pinned"):
        fetch(server, tmp_path / "file.bin", sha256="0" * 64, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_file_url_and_skip_when_already_verified(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    dest = fetch(src.as_uri(), tmp_path / "out" / "dst.bin", sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    src.unlink()  # a verified file is not fetched again
    assert fetch(src.as_uri(), dest, sha256=SHA, progress=False) == dest


def test_unreachable_url_keeps_partial_and_says_how_to_resume(tmp_path):
    with pytest.raises(DownloadError, match="resume"):
        fetch((tmp_path / "missing.bin").as_uri(), tmp_path / "x.bin", progress=False)


def test_zip_members_extracted_by_base_name(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("redial/train_data.jsonl", "{}\n")
    extract_members(archive, {"train_data.jsonl": "train_data.jsonl"}, tmp_path / "raw")
    assert (tmp_path / "raw" / "train_data.jsonl").read_text() == "{}\n"
    with pytest.raises(DownloadError, match="no member 'test_data.jsonl'"):
        extract_members(archive, {"test_data.jsonl": "test_data.jsonl"}, tmp_path / "raw")
