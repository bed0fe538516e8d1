"""A browser that opens a wrong address gets the error page in Indonesian, not the API's JSON;
the API (/api/...) and clients that do not ask for HTML keep the contract's JSON body."""

from __future__ import annotations

from conftest import Api

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_a_mistyped_page_address_is_the_error_page(web: Api) -> None:
    answer = web.client.get("/nope", headers=BROWSER)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Alamat tidak ditemukan." in answer.text
    assert '"error"' not in answer.text and '<html lang="id">' in answer.text


def test_json_for_the_api_and_for_clients_not_asking_for_html(web: Api) -> None:
    for path, headers in (("/api/nope", BROWSER), ("/nope", {"Accept": "application/json"}),
                          ("/nope", {})):
        answer = web.client.get(path, headers=headers)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found", (path, headers)


def test_an_unknown_counter_page_names_the_number(web: Api) -> None:
    answer = web.client.get("/counter/99", headers=BROWSER)
    assert answer.status_code == 404
    assert "Loket 99 tidak ada di situs ini." in answer.text
    assert "(99)" not in answer.text
