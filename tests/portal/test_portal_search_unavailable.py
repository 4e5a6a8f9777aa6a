"""When the search cluster is down, users get the Vietnamese 503 page (or JSON), never a stack trace."""
from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from archive_portal import create_app
from archive_core.context import Archive
from portal_helpers import login

MESSAGE = "Dịch vụ tìm kiếm tạm thời không sẵn sàng"


def _closed_port() -> int:
    """A loopback port nobody listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def down_client(world):
    # The same data home, but the index is an OpenSearch cluster that is not running.
    settings = replace(world.archive.settings, index_engine="opensearch",
                       search_url=f"http://127.0.0.1:{_closed_port()}", search_timeout_ms=2000)
    archive = Archive.open(settings, migrate=False)
    client = create_app(archive=archive).test_client()
    assert login(client, "sonnam").status_code == 302
    yield client
    archive.close()


def test_search_page_is_503_in_vietnamese_when_cluster_is_down(down_client):
    page = down_client.get("/", query_string={"q": "báo cáo"})
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert MESSAGE in html
    assert "Traceback" not in html and "ConnectionError" not in html and "127.0.0.1" not in html


def test_search_api_is_503_json_when_cluster_is_down(down_client):
    response = down_client.get("/api/v1/search", query_string={"q": "báo cáo"})
    assert response.status_code == 503
    assert MESSAGE in response.get_json()["error"]


def test_other_pages_still_work_when_cluster_is_down(down_client, world):
    # Reading a document needs the database and the store only.
    assert down_client.get(f"/van-ban/{world.docs['lam_son']}").status_code == 200
