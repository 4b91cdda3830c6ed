from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from app.schemas import InputModel, Name, OutputModel


class BoardCreate(InputModel):
    """A new school board (centre de services scolaire or private network)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Centre de services scolaire de la Rivière-du-Nord"}]}
    )
    name: Name


class BoardUpdate(InputModel):
    """Rename a school board."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Centre de services scolaire des Mille-Îles"}]})

    name: Name | None = None


class BoardOut(OutputModel):
    """A school board."""

    id: uuid.UUID
    name: str
    created_at: datetime
    updated_at: datetime


class PoliceForceCreate(InputModel):
    """A new police force (service de police)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Service de police de Saint-Jérôme"}]})
    name: Name


class PoliceForceUpdate(InputModel):
    """Rename a police force."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Service de police de Saint-Jérôme"}]})

    name: Name | None = None


class PoliceForceOut(OutputModel):
    """A police force, and whether a DCPP agreement of it is in force today."""

    id: uuid.UUID
    name: str
    kit_in_force: bool = Field(
        default=False,
        description="True when a DCPP agreement of this force is in force today (Quebec time).",
    )
    created_at: datetime
    updated_at: datetime


class SchoolCreate(InputModel):
    """A new school, owned by one board and served by exactly one police force."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "École secondaire Cap-Jeunesse",
                    "board_id": "2b1f3f64-8c1e-4c1a-9d3e-6b8e2f1a0c11",
                    "police_force_id": "8d7e6f5a-4b3c-4d2e-9f1a-0b1c2d3e4f50",
                }
            ]
        }
    )
    name: Name
    board_id: uuid.UUID
    police_force_id: uuid.UUID = Field(description="The one police force serving the school.")


class SchoolUpdate(InputModel):
    """Rename a school or change the police force serving it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"police_force_id": "8d7e6f5a-4b3c-4d2e-9f1a-0b1c2d3e4f50"}]}
    )

    name: Name | None = None
    police_force_id: uuid.UUID | None = None


class SchoolOut(OutputModel):
    """A school, its board and the police force serving it."""

    id: uuid.UUID
    name: str
    board_id: uuid.UUID
    police_force_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class AgreementCreate(InputModel):
    """An agreement between a police force and the DCPP (entente avec le DPCP)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "police_force_id": "8d7e6f5a-4b3c-4d2e-9f1a-0b1c2d3e4f50",
                    "reference": "DPCP-2025-017",
                    "starts_on": "2025-09-01",
                    "ends_on": "2028-08-31",
                }
            ]
        }
    )
    police_force_id: uuid.UUID
    reference: str | None = Field(default=None, max_length=100)
    starts_on: date
    ends_on: date | None = Field(default=None, description="Inclusive; null while no end is set.")

    @model_validator(mode="after")
    def _dates_in_order(self) -> AgreementCreate:
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise PydanticCustomError("agreement_dates", "the agreement's end date is before its start date")
        return self


class AgreementUpdate(InputModel):
    """Change a DCPP agreement's reference or dates."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"ends_on": "2029-08-31"}]})

    reference: str | None = Field(default=None, max_length=100)
    starts_on: date | None = None
    ends_on: date | None = None


class AgreementOut(OutputModel):
    """A DCPP agreement, and whether it is in force today (Quebec calendar)."""

    id: uuid.UUID
    police_force_id: uuid.UUID
    reference: str | None
    starts_on: date
    ends_on: date | None
    in_force_today: bool = False
    created_at: datetime
    updated_at: datetime
