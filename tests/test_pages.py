"""Page languages and message catalogues."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from cityhub.pages import Translator, language_of, messages


def _request(query: str = "", cookie: str = "", accept: str = "") -> Request:
    headers = []
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if accept:
        headers.append((b"accept-language", accept.encode()))
    return Request({"type": "http", "query_string": query.encode(), "headers": headers})


def test_german_and_english_catalogues_have_the_same_messages():
    assert messages("de").keys() == messages("en").keys()
    assert all(text.strip() for text in messages("en").values())


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("", "", "", "de"),
        ("", "", "en-GB,en;q=0.9", "en"),
        ("", "", "fr-FR,en;q=0.5", "en"),
        ("", "lang=en", "de-DE", "en"),
        ("lang=de", "lang=en", "en", "de"),
        ("lang=xx", "", "fr", "de"),
    ],
)
def test_the_page_language_is_asked_for_then_remembered_then_offered(
    query, cookie, accept, expected
):
    assert language_of(_request(query, cookie, accept)) == expected


def test_messages_are_formatted_and_a_missing_one_shows_its_key():
    english = Translator("en")
    assert english("common.as_of", time="10:15") == "As of 10:15"
    assert english("no.such.message") == "no.such.message"
