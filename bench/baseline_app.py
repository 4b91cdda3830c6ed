"""Benchmark-only: two case reads with no audit entry, to measure the
service's audited read against.

``create_baseline_app``: the same read with the same authorization work
(scope, attestation, visibility), written the way the full-stack FastAPI
template writes a read (a session dependency, a current-user dependency that
loads the user, ORM objects, no commit).

``create_plain_app``: the plainest read a user of the template writes: verify
the token, load the user by primary key, load the case by id among the
schools the user is granted, return it.  No attestation, no role, no
visibility rule, no ETag, no audit entry.

They exist only under bench/; the service itself has no switch that turns
auditing off.
"""

import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import create_engine
from sqlmodel import Session, col, select

from app.accounts.models import AttestationLevel, Role, ScopeGrant, TrainingAttestation, User
from app.accounts.scopes import resolve_scope
from app.auth.principal import Principal
from app.cases.models import Case
from app.cases.policy import visible_cases
from app.cases.schemas import CaseOut
from app.config import Settings
from app.security import TokenError, TokenService


def create_baseline_app() -> FastAPI:
    settings = Settings()
    engine = create_engine(settings.effective_database_url)  # the template's engine
    tokens = TokenService.from_settings(settings)
    oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")
    app = FastAPI()

    def get_db() -> Iterator[Session]:
        with Session(engine) as session:
            yield session

    SessionDep = Annotated[Session, Depends(get_db)]  # noqa: N806 (the template's name, kept for comparison)

    def get_current_user(session: SessionDep, token: Annotated[str, Depends(oauth2)]) -> Principal:
        try:
            claims = tokens.decode(token)
        except TokenError:
            raise HTTPException(status_code=401) from None
        user = session.get(User, uuid.UUID(claims.subject.partition(":")[2]))
        if user is None or not user.is_active:
            raise HTTPException(status_code=401)
        grants = session.exec(select(ScopeGrant).where(ScopeGrant.user_id == user.id)).all()
        levels = session.exec(select(TrainingAttestation.level).where(TrainingAttestation.user_id == user.id)).all()
        best = AttestationLevel.architect if "architect" in levels else (AttestationLevel.explorer if levels else None)
        return Principal(
            "user",
            user.id,
            Role(user.role),
            resolve_scope(session, list(grants)),
            best,
            claims.token_id,
            claims.accepted_until,
        )

    @app.get("/api/v1/cases/{case_id}", response_model=CaseOut)
    def read_case(
        case_id: uuid.UUID, session: SessionDep, user: Annotated[Principal, Depends(get_current_user)]
    ) -> CaseOut:
        case = session.exec(select(Case).where(Case.id == case_id, visible_cases(user))).first()
        if case is None:
            raise HTTPException(status_code=404)
        return CaseOut.model_validate({**case.model_dump(), "flags": case.active_flags()})

    @app.on_event("shutdown")  # bench-only app: the plainest template style
    def _dispose() -> None:
        engine.dispose()

    return app


def create_plain_app() -> FastAPI:
    settings = Settings()
    engine = create_engine(settings.effective_database_url)
    tokens = TokenService.from_settings(settings)
    oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")
    app = FastAPI()

    def get_db() -> Iterator[Session]:
        with Session(engine) as session:
            yield session

    SessionDep = Annotated[Session, Depends(get_db)]  # noqa: N806 (the template's name, kept for comparison)

    def get_current_user(session: SessionDep, token: Annotated[str, Depends(oauth2)]) -> User:
        try:
            claims = tokens.decode(token)
        except TokenError:
            raise HTTPException(status_code=401) from None
        user = session.get(User, uuid.UUID(claims.subject.partition(":")[2]))
        if user is None or not user.is_active:
            raise HTTPException(status_code=401)
        return user

    @app.get("/api/v1/cases/{case_id}", response_model=CaseOut)
    def read_case(case_id: uuid.UUID, session: SessionDep, user: Annotated[User, Depends(get_current_user)]) -> CaseOut:
        schools = select(ScopeGrant.school_id).where(ScopeGrant.user_id == user.id)
        case = session.exec(select(Case).where(Case.id == case_id, col(Case.school_id).in_(schools))).first()
        if case is None:
            raise HTTPException(status_code=404)
        return CaseOut.model_validate({**case.model_dump(), "flags": case.active_flags()})

    @app.on_event("shutdown")
    def _dispose() -> None:
        engine.dispose()

    return app
