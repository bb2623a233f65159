"""Digits that are not 0-9 ("²", "٣") in ids, limits and headers: a 4xx, never a 500."""

from __future__ import annotations

import pytest

from cityhub.digits import is_digits


def test_only_ascii_digits_are_digits():
    assert is_digits("0123456789")
    for text in ("", "²", "٣", "1²", " 1", "-1", "1.0", "１"):
        assert not is_digits(text), text


@pytest.mark.parametrize(
    "path",
    [
        "/v1.1/Things(²)",
        "/v1.1/Datastreams(٣)/Observations",
        "/features/collections/sensors/items/²",
        "/api/admin/datasets/²",
        "/downloads/datastreams/².csv",
        "/catalog?page=²",
        "/things/²",
    ],
)
def test_a_superscript_id_is_a_client_error(sqlite_hub, path):
    answer = sqlite_hub.get(path, headers=sqlite_hub.admin)
    assert 400 <= answer.status_code < 500, answer.text
