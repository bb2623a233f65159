"""How two entity tables are joined along a relation of the model."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, select

from cityhub.sensorthings.model import Relation


def related(
    relation: Relation, source: FromClause, target: FromClause
) -> tuple[list[FromClause], ColumnElement[bool]]:
    """Extra FROM items and the condition that ties ``target`` rows to ``source`` rows."""
    if relation.fk:
        return [], target.c.id == source.c[relation.fk]
    if relation.remote_fk:
        return [], target.c[relation.remote_fk] == source.c.id
    assert relation.link is not None
    link = relation.link_table.alias()
    _, own, other = relation.link
    return [link], and_(link.c[own] == source.c.id, link.c[other] == target.c.id)


def members_of(relation: Relation, parent_id: Any, target: FromClause) -> ColumnElement[bool]:
    """Condition selecting the ``target`` rows related to the parent entity ``parent_id``."""
    if relation.remote_fk:
        return target.c[relation.remote_fk] == parent_id
    if relation.link:
        _, own, other = relation.link
        link = relation.link_table
        # Correlated explicitly: the parent may be a FROM two levels up (a LATERAL's parents),
        # where automatic correlation would pull it into the subquery as a cross join.
        linked = select(link.c[other]).where(link.c[own] == parent_id).correlate_except(link)
        return target.c.id.in_(linked)
    raise ValueError(f"{relation.name} is a to-one relation")
