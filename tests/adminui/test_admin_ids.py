"""Ids in the paths the admin pages call: out of range is a 400 naming the id, on both
backends (SQLite's driver raised an overflow, a 500, for an id beyond 64 bits)."""

from __future__ import annotations

import pytest

ROUTES = [
    ("DELETE", "/api/admin/tokens/{}", "token_id"),
    ("DELETE", "/api/admin/crisis/{}", "message_id"),
    ("GET", "/api/admin/lorawan/dead-letters/{}", "letter_id"),
    ("POST", "/api/admin/lorawan/dead-letters/{}/retry", "letter_id"),
    ("DELETE", "/api/admin/lorawan/dead-letters/{}", "letter_id"),
]


@pytest.mark.parametrize(("method", "path", "name"), ROUTES)
@pytest.mark.parametrize("number", [2**31, 2**63, 10**30, 0, -1])
def test_an_id_out_of_range_is_a_400_naming_it(hub, method, path, name, number):
    response = hub.request(method, path.format(number), headers=hub.admin)
    assert response.status_code == 400, response.text
    assert name in response.json()["message"]


@pytest.mark.parametrize(("method", "path", "name"), ROUTES)
def test_the_largest_id_is_looked_up(hub, method, path, name):
    response = hub.request(method, path.format(2**31 - 1), headers=hub.admin)
    assert response.status_code == 404, response.text
