"""Shared bases for request and response bodies."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from pydantic_core import PydanticCustomError

from app.media import find_media, find_nul


class InputModel(BaseModel):
    """Every request body: unknown fields are refused (422), so a client can
    never set a server-owned field (id, status, flags, timestamps); and no
    text anywhere in it may carry an image, a video or a sound."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_media(cls, data: Any) -> Any:
        location = find_nul(data)
        if location is not None:
            raise PydanticCustomError("nul_character", "NUL character refused at {location}", {"location": location})
        location = find_media(data)
        if location is not None:
            # ``app.errors`` answers this error type with 422 ``media_refused``.
            raise PydanticCustomError(
                "media_refused", "image, video or audio content refused at {location}", {"location": location}
            )
        return data


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
