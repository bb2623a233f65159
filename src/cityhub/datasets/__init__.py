"""Datasets: the unit of publication, licence and access, and the organizations that
publish them. A dataset holds feature collections and SensorThings Things (their Locations,
Datastreams and Observations follow them); restricted ones are visible only to tokens that
may read them (``cityhub.store.access``)."""

from cityhub.datasets.manage import (
    create_dataset,
    create_organization,
    dataset_by_slug,
    dataset_id_of,
    delete_dataset,
    find_dataset,
    find_organization,
    list_datasets,
    list_organizations,
    move_things,
    update_dataset,
)

__all__ = [
    "create_dataset",
    "create_organization",
    "dataset_by_slug",
    "dataset_id_of",
    "delete_dataset",
    "find_dataset",
    "find_organization",
    "list_datasets",
    "list_organizations",
    "move_things",
    "update_dataset",
]
