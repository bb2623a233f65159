"""What a client may set on an organization or a dataset, checked once for every way in
(admin API, CLI, Python)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cityhub.datasets import vocabularies
from cityhub.errors import BadRequest
from cityhub.plain import check_email, check_web_address, has_control

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SLUG_HELP = "lower-case letters, digits and hyphens, starting with a letter or digit"


class _Checked(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        """Every text, and every text in a list, without control characters: they would
        reach the catalog's XML and PostgreSQL, which cannot hold them (tab and newline are
        fine)."""
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and has_control(text) for text in texts):
            raise ValueError("must not contain control characters")
        return value


class OrganizationFields(_Checked):
    slug: str
    name: str = Field(min_length=1)
    description: str | None = None
    url: str | None = None
    email: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return value if value is None else check_web_address(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return value if value is None else check_email(value)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        return check_slug(value)


class DatasetChanges(_Checked):
    """The changeable fields of a dataset; every one optional (an update sets those given)."""

    title: str | None = Field(None, min_length=1)
    description: str | None = None
    organization: str | None = None
    licence: str | None = None
    keywords: list[str] | None = None
    themes: list[str] | None = None
    update_frequency: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    visibility: Literal["public", "restricted"] | None = None
    hvd_category: str | None = None
    extras: dict[str, Any] | None = None

    @field_validator("contact_email")
    @classmethod
    def _contact_email(cls, value: str | None) -> str | None:
        return value if value is None else check_email(value)

    @field_validator("licence")
    @classmethod
    def _licence(cls, value: str | None) -> str | None:
        return None if value is None else vocabularies.licence_uri(value)

    @field_validator("themes")
    @classmethod
    def _themes(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return [vocabularies.to_uri(v, vocabularies.THEMES, "theme") for v in value]

    @field_validator("update_frequency")
    @classmethod
    def _frequency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return vocabularies.to_uri(value, vocabularies.FREQUENCIES, "update frequency")

    @field_validator("hvd_category")
    @classmethod
    def _hvd(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return vocabularies.to_uri(value, vocabularies.HVD_CATEGORIES, "high-value category")

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return list(dict.fromkeys(k.strip() for k in value if k.strip()))


class DatasetFields(DatasetChanges):
    """A new dataset: a slug, a title and a licence at least; public unless told otherwise."""

    slug: str
    title: str = Field(min_length=1)  # type: ignore[assignment]
    licence: str  # type: ignore[assignment]
    visibility: Literal["public", "restricted"] = "public"  # type: ignore[assignment]

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        return check_slug(value)


class CollectionChanges(_Checked):
    """What the admin may change of a feature collection: how it is named and described
    (its slug is in every URL, its key and time properties are the imports' to set)."""

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)


def check_slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError(f"'{value}' is not a valid slug: use {_SLUG_HELP}")
    return value


def checked(model: type[_Checked], values: dict[str, Any], what: str) -> Any:
    """``values`` as ``model``, or a 400 naming each field that is wrong and why."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or what}: {_reason(error)}"
            for error in exc.errors()
        )
        raise BadRequest(f"invalid {what}: {problems}") from None


def _reason(error: Any) -> str:
    message = str(error["msg"])
    return message.removeprefix("Value error, ")
