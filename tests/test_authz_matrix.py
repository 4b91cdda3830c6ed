"""The authorization matrix (issue 5): every route × every role × the
situations that change the answer, with the HTTP status that SPEC §3 and the
policy tables (``app/cases/policy.py``: CAPABILITIES, visible_cases) give.  The
expectations come from reading those, not from the service: where the
service answers otherwise, the cell keeps the spec's answer and is listed in
``DISCREPANCIES`` (a strict xfail) until the code is fixed.

One test per cell, over HTTP, against the demo data, on both engines and
both ways in (``WAYS``: a bearer token; a browser session's cookie with its
CSRF token): 3000 cells (``CELL_COUNT``), so 12000 runs.  A way in has a world
(a database) of its own per engine, its users signed in once.  The rows are
the same for both ways but where ``BEARER_ROWS`` says otherwise.  Besides: a route the app serves
without rows, or rows for a route it does not serve, fail; and every refusal
the cells provoke must be in the audit log as one denied entry.

How to read ``MATRIX``
----------------------
Key: (method, path template) of a route the app serves.  Value: a mapping
from situation letters to one row, one column per caller (``COLUMNS``):

    #        ano adm aud lea sta st2 stb poa pob dpj pva pvb
    "R":    "401 404 403 200 200 404 404 404 404 404 404 404",

- ``ano`` is a caller without a token (over sessions: with the cookie and
  CSRF token of a session signed out); the others are the demo users
  (``USERS``: ``lea`` = demo-lead-a, ``st2`` = demo-staff-a2, ...).
- A key of several letters (``"HC"``) gives the same row to each.
- ``200+`` / ``200-`` (list routes): 200, and the situation's case (or
  register entry) is / is not among the items; every page is walked.
- A 404 on a route that names a case, device, participant, hold or register
  entry means "outside the caller's scope": the test then asks the same about
  one that does not exist and requires the same status, the same body and the
  same headers (but ``x-request-id``, ``content-length`` and ``date``).  So
  does a 422 on ``POST /privacy/incidents``, whose body names the situation's
  case (another board's case must read as a case that does not exist).

Situations (``SITUATIONS``): ``-`` none needed; ``R`` a fresh ``reported``
case at school A, not handed off; ``T`` the same with demo-staff-a2 added to
its team (she has no architect attestation); ``H`` a case handed off to force
A with ``csam_suspected`` set (so the DPJ reporter sees it), ready to close,
under a legal hold the school lead placed; ``C`` that case, closed; ``B`` a
case at school B (the other board) handed off to force B, under a hold
police B placed; ``I`` an entry in board A's confidentiality-incident register.
Each case has one minor participant (P1) and one confiscated device (D1).

Request bodies are valid for the situation (``_case_body``, ``_other_body``),
so that only authorization, then the protocol, decides: a 409 means the
caller was let through and the protocol refused.  A write expected to
succeed gets a case (or entry) of its own; the other cells share one per
situation, rebuilt if a write unexpectedly went through.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import bindparam, create_engine, text

from app.demo import SCHOOL_A, SCHOOL_B
from app.main import create_app
from tests.conftest import (
    DEMO_PASSWORD,
    ENGINES,
    REVOKES_THE_CALLERS_TOKEN,
    DatabaseFactory,
    _templates_for,
    api_routes,
    make_settings,
    token_for,
)
from tests.protocol_helpers import answers

API = "/api/v1"
MISSING = "00000000-0000-4000-8000-000000000000"
# Headers that may differ between two otherwise identical answers.
VOLATILE_HEADERS = {"x-request-id", "content-length", "date"}

COLUMNS = ("ano", "adm", "aud", "lea", "sta", "st2", "stb", "poa", "pob", "dpj", "pva", "pvb")
USERS = {
    "ano": None,  # no token
    "adm": "demo-admin",
    "aud": "demo-auditor",  # audits boards A and B
    "lea": "demo-lead-a",
    "sta": "demo-staff-a",  # opens the school A cases, so on their team
    "st2": "demo-staff-a2",  # school A, on no team (but in T), no architect attestation
    "stb": "demo-staff-b",  # school B (board B); opens the school B case
    "poa": "demo-police-a",
    "pob": "demo-police-b",
    "dpj": "demo-dpj-a",  # school A
    "pva": "demo-privacy-a",  # board A
    "pvb": "demo-privacy-b",  # board B
}
SITUATIONS = {
    "-": "none needed",
    "R": "reported at school A, not handed off",
    "T": "the R case with demo-staff-a2 on its team",
    "H": "handed off to force A, csam_suspected, parents and DPJ report recorded, device with police, lead's hold",
    "C": "the H case, closed by the school lead",
    "B": "at school B (board B), handed off to force B, police B's hold",
    "I": "an entry in board A's confidentiality-incident register",
}
CASES = "RTHCB"

# fmt: off
MATRIX: dict[tuple[str, str], dict[str, str]] = {
    # --- public -------------------------------------------------------------------------------------
    #                                                     ano adm aud lea sta st2 stb poa pob dpj pva pvb
    ("GET", "/healthz"):                            {"-": "200 200 200 200 200 200 200 200 200 200 200 200"},
    ("GET", "/readyz"):                             {"-": "200 200 200 200 200 200 200 200 200 200 200 200"},
    ("GET", "/openapi.json"):                       {"-": "200 200 200 200 200 200 200 200 200 200 200 200"},
    ("GET", "/docs"):                               {"-": "200 200 200 200 200 200 200 200 200 200 200 200"},
    ("GET", "/redoc"):                              {"-": "200 200 200 200 200 200 200 200 200 200 200 200"},

    # --- sign-in: each column signs in with its own password; ano with an unknown account -----------
    #                                                     ano adm aud lea sta st2 stb poa pob dpj pva pvb
    ("POST", "/api/v1/auth/token"):                 {"-": "400 200 200 200 200 200 200 200 200 200 200 200"},
    ("GET", "/api/v1/auth/me"):                     {"-": "401 200 200 200 200 200 200 200 200 200 200 200"},
    ("POST", "/api/v1/auth/sessions"):              {"-": "400 201 201 201 201 201 201 201 201 201 201 201"},
    ("GET", "/api/v1/auth/sessions"):               {"-": "401 200 200 200 200 200 200 200 200 200 200 200"},
    ("GET", "/api/v1/auth/sessions/current"):       {"-": "401 200 200 200 200 200 200 200 200 200 200 200"},
    # a fresh session of the admin's: only the admin ends it; another's session reads as a missing one
    ("DELETE", "/api/v1/auth/sessions/{session_id}"):
                                                    {"-": "401 204 404 404 404 404 404 404 404 404 404 404"},
    # each column ends its other sessions (the current one stays; made with a token, the token stays)
    ("DELETE", "/api/v1/auth/sessions"):            {"-": "401 204 204 204 204 204 204 204 204 204 204 204"},
    # each column signs out its own token or session (then signs in again: REVOKES_THE_CALLERS_TOKEN)
    ("POST", "/api/v1/auth/sign-out"):              {"-": "401 204 204 204 204 204 204 204 204 204 204 204"},
    # Each column sends its own password as the new one: let through, then refused (password_unchanged).
    ("POST", "/api/v1/auth/password"):              {"-": "401 422 422 422 422 422 422 422 422 422 422 422"},
    # The second factor, each column its own: an enrolment started; a wrong first code (one started
    # before the cell); removal and new recovery codes without a factor in use.
    ("POST", "/api/v1/auth/mfa/totp"):              {"-": "401 200 200 200 200 200 200 200 200 200 200 200"},
    ("POST", "/api/v1/auth/mfa/totp/confirm"):      {"-": "401 422 422 422 422 422 422 422 422 422 422 422"},
    ("DELETE", "/api/v1/auth/mfa/totp"):            {"-": "401 409 409 409 409 409 409 409 409 409 409 409"},
    ("POST", "/api/v1/auth/mfa/recovery-codes"):    {"-": "401 409 409 409 409 409 409 409 409 409 409 409"},
    # Single sign-on: the providers to offer are public; the start and the callback are refused to
    # everyone here (the matrix's provider is disabled; the callback comes with no state), and audited.
    ("GET", "/api/v1/auth/sso/providers"):          {"-": "200 200 200 200 200 200 200 200 200 200 200 200"},
    ("GET", "/api/v1/auth/sso/{provider_id}/start"):
                                                    {"-": "403 403 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/auth/sso/callback"):           {"-": "403 403 403 403 403 403 403 403 403 403 403 403"},

    # --- administration: admin only; no secret, so 403 for the others -------------------------------
    #                                                             ano adm aud lea sta st2 stb poa pob dpj pva pvb
    ("POST", "/api/v1/boards"):                             {"-": "401 201 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/boards"):                              {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/boards/{board_id}"):                   {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("PATCH", "/api/v1/boards/{board_id}"):                 {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("POST", "/api/v1/police-forces"):                      {"-": "401 201 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/police-forces"):                       {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/police-forces/{force_id}"):            {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("PATCH", "/api/v1/police-forces/{force_id}"):          {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("POST", "/api/v1/schools"):                            {"-": "401 201 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/schools"):                             {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/schools/{school_id}"):                 {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("PATCH", "/api/v1/schools/{school_id}"):               {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("POST", "/api/v1/agreements"):                         {"-": "401 201 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/agreements"):                          {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/agreements/{agreement_id}"):           {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("PATCH", "/api/v1/agreements/{agreement_id}"):         {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("POST", "/api/v1/users"):                              {"-": "401 201 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/users"):                               {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/users/{user_id}"):                     {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("PATCH", "/api/v1/users/{user_id}"):                   {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("POST", "/api/v1/users/{user_id}/attestations"):       {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("DELETE", "/api/v1/users/{user_id}/attestations/{level}"):
                                                            {"-": "401 204 403 403 403 403 403 403 403 403 403 403"},
    ("POST", "/api/v1/users/{user_id}/revoke-tokens"):      {"-": "401 204 403 403 403 403 403 403 403 403 403 403"},
    ("POST", "/api/v1/users/{user_id}/mfa/reset"):          {"-": "401 204 403 403 403 403 403 403 403 403 403 403"},
    ("POST", "/api/v1/identity-providers"):                 {"-": "401 201 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/identity-providers"):                  {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/identity-providers/{provider_id}"):    {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("PATCH", "/api/v1/identity-providers/{provider_id}"):  {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    # Approved by the people who approve grants of its organization, never the admin: the matrix's
    # provider is a throwaway board's, so every approver here gets the 404 of another organization's.
    ("POST", "/api/v1/identity-providers/{provider_id}/approve"):
                                                            {"-": "401 403 403 404 403 403 403 404 404 403 404 404"},
    ("POST", "/api/v1/service-accounts"):                   {"-": "401 201 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/service-accounts"):                    {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("GET", "/api/v1/service-accounts/{account_id}"):       {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("PATCH", "/api/v1/service-accounts/{account_id}"):     {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("POST", "/api/v1/service-accounts/{account_id}/secret"):
                                                            {"-": "401 200 403 403 403 403 403 403 403 403 403 403"},
    ("POST", "/api/v1/service-accounts/{account_id}/revoke-tokens"):
                                                            {"-": "401 204 403 403 403 403 403 403 403 403 403 403"},

    # --- approvals (separation of duties): the approving roles, within their own organizations.  The
    #     grant is a fresh one, pending, of a school A staff member: board A's lead and privacy officer
    #     decide it; police and board B's privacy officer do not reach it (404); the others never approve.
    #                                                             ano adm aud lea sta st2 stb poa pob dpj pva pvb
    ("GET", "/api/v1/approvals"):                           {"-": "401 403 403 200 403 403 403 200 200 403 200 200"},
    ("POST", "/api/v1/approvals/{grant_id}/approve"):       {"-": "401 403 403 200 403 403 403 404 404 403 200 404"},
    ("POST", "/api/v1/approvals/{grant_id}/refuse"):        {"-": "401 403 403 200 403 403 403 404 404 403 200 404"},
    ("GET", "/api/v1/approvals/identity-providers"):        {"-": "401 403 403 200 403 403 403 200 200 403 200 200"},

    # --- grid templates: anyone signed in ------------------------------------------------------------
    ("GET", "/api/v1/grid-templates/current"):              {"-": "401 200 200 200 200 200 200 200 200 200 200 200"},
    ("GET", "/api/v1/grid-templates/{version}"):            {"-": "401 200 200 200 200 200 200 200 200 200 200 200"},

    # --- audit log: auditors (the organizations audited: A and B); the privacy officer reads its
    #     board's entries ("access review from the audit log").  Lists filtered on the situation's case.
    #                                                             ano adm aud  lea sta st2 stb poa pob dpj pva  pvb
    ("GET", "/api/v1/audit/events"): {                      "RTHC": "401 403 200+ 403 403 403 403 403 403 403 200+ 200-",
                                                            "B":    "401 403 200+ 403 403 403 403 403 403 403 200- 200+"},
    ("GET", "/api/v1/audit/export"):                      {CASES: "401 403 200+ 403 403 403 403 403 403 403 403  403"},
    ("GET", "/api/v1/audit/verify"):                        {"-": "401 403 200  403 403 403 403 403 403 403 403  403"},
    ("GET", "/api/v1/audit/checkpoints"):                   {"-": "401 403 200  403 403 403 403 403 403 403 403  403"},
    ("POST", "/api/v1/audit/checkpoints"):                  {"-": "401 403 201  403 403 403 403 403 403 403 403  403"},

    # --- privacy officer: its own board only, never case contents; others 403 ----------------------
    #                                                             ano adm aud lea sta st2 stb poa pob dpj pva  pvb
    ("GET", "/api/v1/privacy/retention-rule"):              {"-": "401 403 403 403 403 403 403 403 403 403 200  200"},
    ("PUT", "/api/v1/privacy/retention-rule"):              {"-": "401 403 403 403 403 403 403 403 403 403 200  200"},
    ("GET", "/api/v1/privacy/retention/preview"): {         "RTHB": "401 403 403 403 403 403 403 403 403 403 200- 200-",  # closed cases only
                                                            "C":    "401 403 403 403 403 403 403 403 403 403 200+ 200-"},
    ("GET", "/api/v1/privacy/legal-holds"): {               "RT":   "401 403 403 403 403 403 403 403 403 403 200- 200-",
                                                            "HC":   "401 403 403 403 403 403 403 403 403 403 200+ 200-",
                                                            "B":    "401 403 403 403 403 403 403 403 403 403 200- 200+"},
    ("GET", "/api/v1/privacy/access-review"):               {"-": "401 403 403 403 403 403 403 403 403 403 200  200"},
    ("POST", "/api/v1/privacy/incidents"): {                "RTHC": "401 403 403 403 403 403 403 403 403 403 201  422",  # names the case
                                                            "B":    "401 403 403 403 403 403 403 403 403 403 422  201"},
    ("GET", "/api/v1/privacy/incidents"):                   {"I": "401 403 403 403 403 403 403 403 403 403 200+ 200-"},
    ("GET", "/api/v1/privacy/incidents/export"):            {"I": "401 403 403 403 403 403 403 403 403 403 200+ 200-"},
    ("GET", "/api/v1/privacy/incidents/{incident_id}"):     {"I": "401 403 403 403 403 403 403 403 403 403 200  404"},
    ("PATCH", "/api/v1/privacy/incidents/{incident_id}"):   {"I": "401 403 403 403 403 403 403 403 403 403 200  404"},
    ("GET", "/api/v1/privacy/incidents/{incident_id}/history"):
                                                            {"I": "401 403 403 403 403 403 403 403 403 403 200  404"},

    # --- cases: open (at school A, whoever asks) and the lists -----------------------------------------
    #                                     ano adm aud lea  sta  st2  stb  poa  pob  dpj  pva pvb
    ("POST", "/api/v1/cases"):     {"-": "401 403 403 201  201  403  403  403  403  403  403 403"},
    ("GET", "/api/v1/cases"): {
                                   "R":  "401 403 403 200+ 200+ 200- 200- 200- 200- 200- 403 403",
                                   "T":  "401 403 403 200+ 200+ 200+ 200- 200- 200- 200- 403 403",
                                   "HC": "401 403 403 200+ 200+ 200- 200- 200+ 200- 200+ 403 403",
                                   "B":  "401 403 403 200- 200- 200- 200+ 200- 200+ 200- 403 403",
    },
    ("GET", "/api/v1/police/cases"): {
                                   "RT": "401 403 403 403  403  403  403  200- 200- 403  403 403",
                                   "HC": "401 403 403 403  403  403  403  200+ 200- 403  403 403",
                                   "B":  "401 403 403 403  403  403  403  200- 200+ 403  403 403",
    },

    # --- the staff of the lead's schools, to build case teams: school leads only; no secret (403) -------
    #                                     ano adm aud lea  sta  st2  stb  poa  pob  dpj  pva pvb
    ("GET", "/api/v1/staff"):      {"-": "401 403 403 200  403  403  403  403  403  403  403 403"},

    # --- one case ------------------------------------------------------------------------------------
    # Who sees it (policy.visible_cases): lea every case of school A; sta/st2 the cases they are on the
    # team of; poa/pob cases handed off to their force; dpj school A cases needing a DPJ report (H, C);
    # aud every case of the boards it audits, for the access log only.  Anyone else: 404.
    #                                                    ano adm aud lea sta st2 stb poa pob dpj pva pvb
    ("GET", "/api/v1/cases/{case_id}"): {
                                                  "R":  "401 404 403 200 200 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 200 200 404 404 404 404 404 404",
                                                  "HC": "401 404 403 200 200 404 404 200 404 200 404 404",
                                                  "B":  "401 404 403 404 404 404 200 404 200 404 404 404",
    },
    ("PATCH", "/api/v1/cases/{case_id}"): {  # the summary; no edits once handed off
                                                  "R":  "401 404 403 200 200 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 200 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 409 409 404 404 403 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 409 404 403 404 404 404",
    },
    ("GET", "/api/v1/cases/{case_id}/transitions"): {
                                                  "R":  "401 404 403 200 200 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 200 200 404 404 404 404 404 404",
                                                  "HC": "401 404 403 200 200 404 404 200 404 200 404 404",
                                                  "B":  "401 404 403 404 404 404 200 404 200 404 404 404",
    },
    ("POST", "/api/v1/cases/{case_id}/transitions"): {  # R/T start_evaluation, H/B close, C reopen
                                                  "R":  "401 404 403 200 200 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 200 403 404 404 404 404 404 404",
                                                  "H":  "401 404 403 200 403 404 404 403 404 403 404 404",
                                                  "C":  "401 404 403 409 403 404 404 403 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 403 404 403 404 404 404",
    },
    ("GET", "/api/v1/cases/{case_id}/next-steps"): {
                                                  "R":  "401 404 403 200 200 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 200 200 404 404 404 404 404 404",
                                                  "HC": "401 404 403 200 200 404 404 200 404 200 404 404",
                                                  "B":  "401 404 403 404 404 404 200 404 200 404 404 404",
    },
    ("POST", "/api/v1/cases/{case_id}/acknowledgement"): {
                                                  "R":  "401 404 403 403 403 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 403 403 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 403 403 404 404 201 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 403 404 201 404 404 404",
    },
    ("POST", "/api/v1/cases/{case_id}/police-outcome"): {
                                                  "R":  "401 404 403 403 403 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 403 403 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 403 403 404 404 200 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 403 404 200 404 404 404",
    },
    ("GET", "/api/v1/cases/{case_id}/team"): {
                                                  "R":  "401 404 403 200 200 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 200 200 404 404 404 404 404 404",
                                                  "HC": "401 404 403 200 200 404 404 403 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 200 404 403 404 404 404",
    },
    ("POST", "/api/v1/cases/{case_id}/team"): {  # add demo-staff-a2
                                                  "R":  "401 404 403 201 403 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 201 403 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 201 403 404 404 403 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 403 404 403 404 404 404",
    },
    ("DELETE", "/api/v1/cases/{case_id}/team/{user_id}"): {  # take demo-staff-a2 off
                                                  "R":  "401 404 403 204 403 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 204 403 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 204 403 404 404 403 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 403 404 403 404 404 404",
    },
    ("GET", "/api/v1/cases/{case_id}/participants"): {
                                                  "R":  "401 404 403 200 200 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 200 200 404 404 404 404 404 404",
                                                  "HC": "401 404 403 200 200 404 404 200 404 200 404 404",
                                                  "B":  "401 404 403 404 404 404 200 404 200 404 404 404",
    },
    ("POST", "/api/v1/cases/{case_id}/participants"): {  # the school stops investigating once handed off
                                                  "R":  "401 404 403 201 201 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 201 201 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 409 409 404 404 403 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 409 404 403 404 404 404",
    },
    ("POST", "/api/v1/cases/{case_id}/participants/{participant_id}/flags"): {
                                                  "R":  "401 404 403 201 201 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 201 201 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 409 409 404 404 403 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 409 404 403 404 404 404",
    },
    ("GET", "/api/v1/cases/{case_id}/participants/{participant_id}/export"): {  # the school lead
                                                  "R":  "401 404 403 200 403 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 403 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 200 403 404 404 403 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 403 404 403 404 404 404",
    },
    ("GET", "/api/v1/cases/{case_id}/grids"): {  # interviews: never the DPJ reporter
                                                  "R":  "401 404 403 200 200 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 200 200 404 404 404 404 404 404",
                                                  "HC": "401 404 403 200 200 404 404 200 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 200 404 200 404 404 404",
    },
    ("POST", "/api/v1/cases/{case_id}/grids"): {
                                                  "R":  "401 404 403 201 201 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 201 201 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 409 409 404 404 403 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 409 404 403 404 404 404",
    },
    ("GET", "/api/v1/cases/{case_id}/devices"): {
                                                  "R":  "401 404 403 200 200 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 200 200 404 404 404 404 404 404",
                                                  "HC": "401 404 403 200 200 404 404 200 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 200 404 200 404 404 404",
    },
    ("POST", "/api/v1/cases/{case_id}/devices"): {  # confiscation: school users, until the case is closed
                                                  "R":  "401 404 403 201 201 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 201 201 403 404 404 404 404 404 404",
                                                  "H":  "401 404 403 201 201 404 404 403 404 403 404 404",
                                                  "C":  "401 404 403 409 409 404 404 403 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 201 404 403 404 404 404",
    },
    ("GET", "/api/v1/devices/{device_id}/custody-events"): {
                                                  "R":  "401 404 403 200 200 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 200 200 404 404 404 404 404 404",
                                                  "HC": "401 404 403 200 200 404 404 200 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 200 404 200 404 404 404",
    },
    ("POST", "/api/v1/devices/{device_id}/custody-events"): {  # R/T/B transferred_to_police; H/C returned_to_owner: police only
                                                  "R":  "401 404 403 201 201 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 201 201 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 403 403 404 404 201 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 201 404 201 404 404 404",
    },
    ("GET", "/api/v1/cases/{case_id}/contacts"): {
                                                  "R":  "401 404 403 200 200 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 200 200 404 404 404 404 404 404",
                                                  "HC": "401 404 403 200 200 404 404 200 404 200 404 404",
                                                  "B":  "401 404 403 404 404 404 200 404 200 404 404 404",
    },
    ("POST", "/api/v1/cases/{case_id}/contacts"): {  # dpj: the DPJ report; the others: P1's parents notified
                                                  "R":  "401 404 403 201 201 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 201 201 403 404 404 404 404 404 404",
                                                  "H":  "401 404 403 201 201 404 404 403 404 201 404 404",
                                                  "C":  "401 404 403 409 409 404 404 403 404 409 404 404",
                                                  "B":  "401 404 403 404 404 404 201 404 403 404 404 404",
    },
    ("GET", "/api/v1/cases/{case_id}/notes"): {  # the school's chronology
                                                  "R":  "401 404 403 200 200 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 200 200 404 404 404 404 404 404",
                                                  "HC": "401 404 403 200 200 404 404 403 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 200 404 403 404 404 404",
    },
    ("POST", "/api/v1/cases/{case_id}/notes"): {
                                                  "R":  "401 404 403 201 201 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 201 201 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 201 201 404 404 403 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 201 404 403 404 404 404",
    },
    ("GET", "/api/v1/cases/{case_id}/access-log"): {  # auditors and the school lead
                                                  "R":  "401 404 200 200 403 404 404 404 404 404 404 404",
                                                  "T":  "401 404 200 200 403 403 404 404 404 404 404 404",
                                                  "HC": "401 404 200 200 403 404 404 403 404 403 404 404",
                                                  "B":  "401 404 200 404 404 404 403 404 403 404 404 404",
    },
    # Legal holds: the school lead and police place them (on a case handed off or reported to the
    # DPJ) and lift their own; the privacy officer sees them only in its board overview.
    ("GET", "/api/v1/cases/{case_id}/legal-holds"): {
                                                  "R":  "401 404 403 200 403 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 200 403 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 200 403 404 404 200 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 403 404 200 404 404 404",
    },
    ("POST", "/api/v1/cases/{case_id}/legal-holds"): {
                                                  "R":  "401 404 403 409 403 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 409 403 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 201 403 404 404 201 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 403 404 201 404 404 404",
    },
    ("POST", "/api/v1/cases/{case_id}/legal-holds/{hold_id}/lift"): {  # R/T: no hold (a hold id that does not exist)
                                                  "R":  "401 404 403 404 403 404 404 404 404 404 404 404",
                                                  "T":  "401 404 403 404 403 403 404 404 404 404 404 404",
                                                  "HC": "401 404 403 200 403 404 404 403 404 403 404 404",
                                                  "B":  "401 404 403 404 404 404 403 404 200 404 404 404",
    },
}
# fmt: on

# Cells where the service does not answer as the spec says: (method, path,
# situation, column) -> what it does instead.  Strict xfails, so that the file
# stays green until the code is fixed (then the cell passes, the xfail fails,
# and the entry must go).
DISCREPANCIES: dict[tuple[str, str, str, str], str] = {}

# The ways in: each cell runs over both.
WAYS = ("bearer", "session")
# Where a bearer token is answered otherwise than a browser session: the row for the bearer way.
# fmt: off
BEARER_ROWS: dict[tuple[str, str], str] = {
    # a request made with a token has no current session
    ("GET", "/api/v1/auth/sessions/current"):       "401 404 404 404 404 404 404 404 404 404 404 404",
}
# fmt: on

# Placeholders filled from the situation (the rest are administration targets).
SUBJECT_IDS = ("case_id", "participant_id", "device_id", "hold_id", "incident_id")
# List routes: the query, and how an item names the situation's case or entry.
LISTS = {
    f"{API}/cases": ({"limit": 100}, lambda item: item["id"]),
    f"{API}/police/cases": ({"limit": 100}, lambda item: item["case"]["id"]),
    f"{API}/audit/events": ({"limit": 100, "case_id": "{key}"}, lambda item: item["case_id"]),
    f"{API}/audit/export": ({"case_id": "{key}"}, lambda item: item["case_id"]),
    f"{API}/privacy/legal-holds": ({"limit": 100}, lambda item: item["case_id"]),
    f"{API}/privacy/retention/preview": ({}, lambda item: item["case_id"]),
    f"{API}/privacy/incidents": ({"limit": 100}, lambda item: item["id"]),
    f"{API}/privacy/incidents/export": ({}, lambda item: item["id"]),
}
# Writes that do not change the situation's case (they may share it).
LEAVES_THE_CASE = {("POST", f"{API}/privacy/incidents")}


# --- the table, read -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    method: str
    template: str
    situation: str
    column: str
    expected: int
    listed: bool | None  # list routes: whether the situation's case (entry) is among the items

    @property
    def id(self) -> str:
        return f"{self.method} {self.template} [{self.situation}] {self.column}"

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.method, self.template, self.situation, self.column)

    @property
    def writes(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")

    @property
    def names_a_subject(self) -> bool:
        return any(f"{{{name}}}" in self.template for name in SUBJECT_IDS)

    @property
    def concealed(self) -> bool:
        """Outside the caller's scope: must read as absence."""
        if self.expected == 404 and self.names_a_subject:
            return True
        return self.expected == 422 and (self.method, self.template) in LEAVES_THE_CASE


_TOKEN = re.compile(r"^([1-5]\d\d)([+-]?)$")


def read_matrix(matrix: dict[tuple[str, str], dict[str, str]]) -> list[Cell]:
    cells = []
    for (method, template), rows in matrix.items():
        for letters, row in rows.items():
            tokens = row.split()
            assert len(tokens) == len(COLUMNS), f"{method} {template} [{letters}]: {len(tokens)} columns"
            for situation in letters:
                assert situation in SITUATIONS, f"{method} {template}: unknown situation {situation!r}"
                for column, token in zip(COLUMNS, tokens, strict=True):
                    match = _TOKEN.match(token)
                    assert match, f"{method} {template} [{letters}] {column}: {token!r}"
                    listed = {"+": True, "-": False, "": None}[match.group(2)]
                    cells.append(Cell(method, template, situation, column, int(match.group(1)), listed))
    return cells


CELLS = read_matrix(MATRIX)
CELL_COUNT = 3000  # the exact number of cells (per engine and way in); checked below


def _param(cell: Cell):
    reason = DISCREPANCIES.get(cell.key)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(cell, id=cell.id, marks=marks)


# --- the world: one database per engine, the demo data, the situations ---------------------------


@dataclass(frozen=True)
class Subject:
    """What a situation provides: the ids its placeholders take, and the id
    a list shows it by."""

    ids: dict[str, str]
    key: str


class World:
    """The service on one engine, the demo users signed in, and the cases and
    register entries the situations need."""

    def __init__(self, client: TestClient, database_url: str, settle: Callable[[], None], way: str) -> None:
        self.client = client
        self.way = way
        self.database_url = database_url  # the owner's, for reading the audit log directly
        self.settle = settle  # before reading the police feed (conftest's settle_feed)
        # (request id, status, cell, the case its path names or None) of every refusal
        self.denials: list[tuple[str, int, str, str | None]] = []
        self.headers = {column: self._sign_in(user) for column, user in USERS.items()}
        self.ids = self._demo_ids()
        self.shared: dict[str, Subject] = {}
        self._targets: dict[str, str] | None = None
        self._absent: dict[tuple[str, ...], Any] = {}

    def _sign_in(self, username: str | None) -> dict[str, str]:
        if self.way == "bearer":
            return {"Authorization": f"Bearer {token_for(self.client, username)}"} if username else {}
        opened = self.open_session(username or "demo-staff-a")
        headers = {"Cookie": f"sexto_session={opened['secret']}", "X-CSRF-Token": opened["csrf_token"]}
        if not username:
            # ``ano`` comes with a session that was signed out: refused everywhere as no session at all.
            ended = self.client.post(f"{API}/auth/sign-out", headers=headers)
            assert ended.status_code == 204, ended.text
            self.client.cookies.clear()
        return headers

    def open_session(self, username: str) -> dict[str, str]:
        """A browser session of the user's: its id, cookie and CSRF token."""
        response = self.client.post(f"{API}/auth/sessions", json={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 201, response.text
        self.client.cookies.clear()
        return {**response.json(), "secret": response.cookies["sexto_session"]}

    def expected(self, cell: Cell) -> int:
        """The cell's status for this world's way in."""
        row = BEARER_ROWS.get((cell.method, cell.template)) if self.way == "bearer" else None
        return int(row.split()[COLUMNS.index(cell.column)]) if row else cell.expected

    def sign_in_again(self, column: str) -> None:
        """A cell ended the column's token (a sign-out): a new one for the cells after it."""
        self.headers[column] = self._sign_in(USERS[column])

    def call(self, method: str, path: str, column: str, **kwargs):
        try:
            return self.client.request(method, path, headers=self.headers[column], **kwargs)
        finally:
            # A sign-in's cookie must not follow the next caller (``ano`` included).
            self.client.cookies.clear()

    def ok(self, method: str, path: str, column: str, status: int = 201, **kwargs) -> dict:
        response = self.call(method, f"{API}{path}", column, **kwargs)
        assert response.status_code == status, (
            f"arranging: {method} {path} as {column}: {response.status_code} {response.text}"
        )
        return response.json()

    def _demo_ids(self) -> dict[str, str]:
        users = self.ok("GET", "/users", "adm", 200, params={"limit": 100})["items"]
        schools = self.ok("GET", "/schools", "adm", 200, params={"limit": 100})["items"]
        by_name = {u["username"]: u["id"] for u in users}
        school_a, school_b = (next(s for s in schools if s["name"] == name) for name in (SCHOOL_A, SCHOOL_B))
        ids = {
            "staff-a2": by_name["demo-staff-a2"],
            "school_a": school_a["id"],
            "school_b": school_b["id"],
            "force_b": school_b["police_force_id"],
        }
        # The demo has no DCPP agreement for force B: give it one, so that a case opens at school B.
        today = date.today()
        self.ok(
            "POST",
            "/agreements",
            "adm",
            json={
                "police_force_id": ids["force_b"],
                "reference": "MATRIX-B",
                "starts_on": str(today - timedelta(days=30)),
                "ends_on": str(today + timedelta(days=365)),
            },
        )
        return ids

    # --- situations -------------------------------------------------------------------------------

    def build(self, situation: str) -> Subject:
        if situation == "I":
            entry = self.ok("POST", "/privacy/incidents", "pva", json=INCIDENT)
            return Subject({"incident_id": entry["id"]}, entry["id"])
        school, staff = ("school_b", "stb") if situation == "B" else ("school_a", "sta")
        case = self.ok("POST", "/cases", staff, json=_case_create(self.ids[school]))
        base = f"/cases/{case['id']}"
        person = self.ok("POST", f"{base}/participants", staff, json=PERSON)
        device = self.ok("POST", f"{base}/devices", staff, json=_device_body(person["id"]))
        hold_id = MISSING  # R, T: no hold can be placed (neither handed off nor reported to the DPJ)
        if situation == "T":
            self.ok("POST", f"{base}/team", "lea", json={"user_id": self.ids["staff-a2"]})
        if situation in "HC":
            grid = {
                "participant_id": person["id"],
                "template_version": 1,
                "answers": answers(content="nudity_or_breasts", ages=[15]),
            }
            assert self.ok("POST", f"{base}/grids", staff, json=grid)["flags_raised"] == ["csam_suspected"]
        if situation in "HCB":
            self.ok(
                "POST",
                f"{base}/transitions",
                staff,
                200,
                json={"action": "hand_off", "police_officer": "Agente Paquette"},
            )
        if situation in "HC":
            self.ok("POST", f"{base}/contacts", staff, json=_parents_body(person["id"]))
            self.ok("POST", f"{base}/contacts", "lea", json=DPJ_REPORT)
            self.ok("POST", f"/devices/{device['id']}/custody-events", staff, json=TRANSFER)
            hold_id = self.ok("POST", f"{base}/legal-holds", "lea", json=HOLD)["id"]
        if situation == "B":
            hold_id = self.ok("POST", f"{base}/legal-holds", "pob", json=HOLD)["id"]
        if situation == "C":
            self.ok("POST", f"{base}/transitions", "lea", 200, json={"action": "close"})
        ids = {"case_id": case["id"], "participant_id": person["id"], "device_id": device["id"], "hold_id": hold_id}
        return Subject(ids, case["id"])

    def subject(self, situation: str, *, fresh: bool) -> Subject:
        if fresh:
            return self.build(situation)
        if situation not in self.shared:
            self.shared[situation] = self.build(situation)
        return self.shared[situation]

    def discard(self, situation: str) -> None:
        self.shared.pop(situation, None)

    def absent(self, method: str, column: str, path: str, kwargs: dict[str, Any]):
        """The answer about a case (device, entry) that does not exist: the
        same whatever the situation, so asked once per request."""
        key = (method, column, path, json.dumps(kwargs, sort_keys=True, default=str))
        if key not in self._absent:
            self._absent[key] = self.call(method, path, column, **kwargs)
        return self._absent[key]

    # --- administration targets: throwaway, so that admin writes touch nothing the cells use -----

    def targets(self) -> dict[str, str]:
        if self._targets is None:
            tag = uuid.uuid4().hex[:8]
            board = self.ok("POST", "/boards", "adm", json={"name": f"CSS matrice {tag}"})
            force = self.ok("POST", "/police-forces", "adm", json={"name": f"Police matrice {tag}"})
            school = self.ok(
                "POST",
                "/schools",
                "adm",
                json={"name": f"École matrice {tag}", "board_id": board["id"], "police_force_id": force["id"]},
            )
            agreement = self.ok(
                "POST",
                "/agreements",
                "adm",
                json={"police_force_id": force["id"], "reference": f"M-{tag}", "starts_on": "2025-09-01"},
            )
            user = self.ok("POST", "/users", "adm", json=_user_body(f"matrice.{tag}", school["id"]))
            account = self.ok(
                "POST",
                "/service-accounts",
                "adm",
                json={
                    "name": f"Portail matrice {tag}",
                    "role": "police_liaison",
                    "scope": {"police_forces": [force["id"]]},
                },
            )
            # Disabled: no sign-in starts through it (the matrix has no provider to reach).
            identity_provider = self.ok("POST", "/identity-providers", "adm", json=_provider_body(tag, board["id"]))
            self._targets = {
                "provider_id": identity_provider["id"],
                "board_id": board["id"],
                "force_id": force["id"],
                "school_id": school["id"],
                "agreement_id": agreement["id"],
                "user_id": user["id"],
                "account_id": account["id"],
                "level": "explorer",
                "version": "1",
            }
        return self._targets


@pytest.fixture(scope="module", params=[(engine, way) for engine in ENGINES for way in WAYS], ids="-".join)
def world(request, templates, tmp_path_factory, var_dir, postgres_server):
    """One demo database per engine and way in for the whole module: the
    conftest fixtures give one per test, and these cells need only fresh
    cases, built here over HTTP."""
    engine, way = request.param
    if engine == "postgresql" and postgres_server is None:
        pytest.skip("PostgreSQL does not answer (set SEXTO_TEST_POSTGRES_URL)")
    built = _templates_for(engine, templates, tmp_path_factory, var_dir, postgres_server)
    factory = DatabaseFactory(engine, built, tmp_path_factory.mktemp("authz-matrix"), postgres_server)
    url = factory.clone("demo")
    app_url = postgres_server.app_url(url) if engine == "postgresql" else url
    settle = postgres_server.settle if engine == "postgresql" else lambda: None
    try:
        with TestClient(create_app(make_settings(app_url, var_dir))) as client:
            yield World(client, url, settle, way)
    finally:
        factory.discard()


# --- request bodies: valid, so that only authorization (then the protocol) decides ----------------

PERSON = {"role": "distributor", "is_minor": True, "grade": "Sec. 3", "student_id": "7654321", "name": "Élève Test"}
TRANSFER = {"kind": "transferred_to_police", "officer_name": "Agente Paquette", "badge_number": "4521"}
RETURN = {"kind": "returned_to_owner", "note": "Remis au parent."}
DPJ_REPORT = {
    "kind": "dpj_report",
    "occurred_at": "2026-11-21T09:00:00Z",
    "region": "Laurentides",
    "reference": "DPJ-26-1234",
    "retained": True,
}
HOLD = {"reason": "Enquête policière en cours."}
INCIDENT = {
    "information_involved": "Noms et niveaux scolaires de deux élèves (un dossier Sexto).",
    "circumstances": "Courriel envoyé au mauvais destinataire interne.",
    "occurred_from": "2026-11-18",
    "discovered_on": "2026-11-19",
    "people_concerned": 2,
    "risk_level": "low",
}
TRANSITION = {
    "R": {"action": "start_evaluation"},
    "T": {"action": "start_evaluation"},
    "H": {"action": "close"},
    "C": {"action": "reopen", "reason": "Nouvel élément rapporté."},
    "B": {"action": "close"},
}


def _case_create(school_id: str) -> dict:
    return {
        "school_id": school_id,
        "reporter_type": "student",
        "channel": "in_person",
        "place": "school",
        "summary": "Une photo circulerait dans une conversation de groupe.",
    }


def _device_body(owner_id: str) -> dict:
    return {
        "kind": "phone",
        "description": "Téléphone noir",
        "owner_participant_id": owner_id,
        "switched_off_confirmed": True,
        "content_not_viewed": True,
        "seal_number": "SC-0001",
        "storage_location": "Coffre de la direction",
    }


def _parents_body(participant_id: str) -> dict:
    return {
        "kind": "parent_notification",
        "participant_id": participant_id,
        "guardian_relationship": "mother",
        "method": "phone",
        "occurred_at": "2026-11-20T16:00:00Z",
    }


def _user_body(username: str, school_id: str) -> dict:
    return {
        "username": username,
        "full_name": "Personne Matrice",
        "role": "school_staff",
        "password": "une phrase de passe assez longue",
        "scope": {"schools": [school_id]},
    }


def _provider_body(tag: str, board_id: str) -> dict:
    return {
        "name": f"Fournisseur matrice {tag}",
        "board_id": board_id,
        "issuer": "https://idp.matrice.example",
        "client_id": f"sexto-{tag}",
        "client_secret_file": "matrice",
        "allowed_domains": ["matrice.example"],
        "enabled": False,
    }


def _case_body(cell: Cell, world: World, ids: dict[str, str]) -> Any:
    """The body of a write under a case or a device."""
    path = cell.template.removeprefix(API)
    if path == "/cases/{case_id}":
        return {"summary": "Précision : la photo aurait été envoyée vendredi soir."}
    if path.endswith("/transitions"):
        return TRANSITION[cell.situation]
    if path.endswith("/acknowledgement"):
        return {"police_file_number": "SPVR-26-0042"}
    if path.endswith("/police-outcome"):
        return {"dcpp_decision": "impulsive", "dcpp_decided_on": "2026-11-24"}
    if path.endswith("/team"):
        return {"user_id": world.ids["staff-a2"]}
    if path.endswith("/team/{user_id}"):
        return None  # the member is in the path
    if path.endswith("/participants"):
        return {"role": "witness", "is_minor": True, "grade": "Sec. 2", "student_id": "1234567", "name": "Élève Témoin"}
    if path.endswith("/flags"):
        return {"kind": "refused", "reason": "Refuse de participer à la rencontre."}
    if path.endswith("/grids"):
        return {"participant_id": ids["participant_id"], "template_version": 1, "answers": answers()}
    if path.endswith("/devices"):
        return _device_body(ids["participant_id"])
    if path.endswith("/custody-events"):
        return RETURN if cell.situation in "HC" else TRANSFER
    if path.endswith("/contacts"):
        return DPJ_REPORT if cell.column == "dpj" else _parents_body(ids["participant_id"])
    if path.endswith("/notes"):
        return {"text": "Rencontre de soutien avec l'élève."}
    if path.endswith("/legal-holds"):
        return HOLD
    if path.endswith("/lift"):
        return {"reason": "Dossier policier fermé."}
    raise AssertionError(f"no body for {cell.method} {cell.template}")


def _other_body(cell: Cell, world: World, ids: dict[str, str]) -> Any:
    """The body of any other write (None: it takes none)."""
    tag = uuid.uuid4().hex[:8]
    path = cell.template.removeprefix(API)
    if path == "/privacy/incidents":
        return {**INCIDENT, "case_ids": [ids["case_id"]]}
    if path == "/privacy/incidents/{incident_id}":
        return {"risk_level": "serious", "commission_notified_on": "2026-11-20"}
    if path == "/privacy/retention-rule":
        return {"years_after_closure": 5, "schedule_reference": "CC-2026-04-12"}
    if path == "/cases":
        return _case_create(world.ids["school_a"])
    if path == "/auth/password":
        return {"current_password": DEMO_PASSWORD, "new_password": DEMO_PASSWORD}
    if path == "/auth/mfa/totp/confirm":
        return {"code": "000000"}
    if path.startswith("/auth/mfa/"):
        # The password proved again first (it is right), then the code.
        proof = {"password": DEMO_PASSWORD}
        return proof if (cell.method, path) == ("POST", "/auth/mfa/totp") else {**proof, "code": "000000"}
    targets = world.targets()
    bodies = {
        "/boards": {"name": f"CSS {tag}"},
        "/boards/{board_id}": {"name": f"CSS renommé {tag}"},
        "/police-forces": {"name": f"Police {tag}"},
        "/police-forces/{force_id}": {"name": f"Police renommée {tag}"},
        "/schools": {"name": f"École {tag}", "board_id": targets["board_id"], "police_force_id": targets["force_id"]},
        "/schools/{school_id}": {"name": f"École renommée {tag}"},
        # Ended long ago: it changes no school's right to use the kit.
        "/agreements": {
            "police_force_id": targets["force_id"],
            "reference": f"A-{tag}",
            "starts_on": "2024-01-01",
            "ends_on": "2024-12-31",
        },
        "/agreements/{agreement_id}": {"reference": f"B-{tag}"},
        "/users": _user_body(f"m.{tag}", world.ids["school_a"]),
        "/users/{user_id}": {"full_name": f"Personne {tag}"},
        "/users/{user_id}/attestations": {
            "level": "explorer",
            "obtained_on": "2026-01-15",
            "badge_url": f"https://badges.example.org/sexto/explorer/{tag}",
        },
        "/identity-providers": _provider_body(tag, targets["board_id"]),
        "/identity-providers/{provider_id}": {"name": f"Fournisseur renommé {tag}"},
        "/service-accounts": {"name": f"SI {tag}", "role": "school_lead", "scope": {"boards": [targets["board_id"]]}},
        "/service-accounts/{account_id}": {"name": f"SI renommé {tag}"},
    }
    return bodies.get(path)


@dataclass
class Call:
    path: str
    kwargs: dict[str, Any]
    absent: tuple[str, dict[str, Any]] | None  # the same call about something that does not exist


def _query(query: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value.format(key=key) if isinstance(value, str) else value for name, value in query.items()}


def _fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], template)


def _call(cell: Cell, world: World, subject: Subject | None) -> Call:
    if cell.template == f"{API}/auth/sessions" and cell.method == "POST":
        username = USERS[cell.column]
        username, password = (username, DEMO_PASSWORD) if username else ("matrice-inconnu", "pas le bon mot de passe")
        return Call(cell.template, {"json": {"username": username, "password": password}}, None)
    if cell.template == f"{API}/auth/token":
        username = USERS[cell.column]
        username, password = (username, DEMO_PASSWORD) if username else ("matrice-inconnu", "pas le bon mot de passe")
        return Call(
            cell.template, {"data": {"grant_type": "password", "username": username, "password": password}}, None
        )
    ids = subject.ids if subject else {}
    names = set(re.findall(r"{(\w+)}", cell.template))
    if "grant_id" in names:
        ids = {**ids, "grant_id": _pending_grant(world)}
    if cell.template == f"{API}/cases/{{case_id}}/team/{{user_id}}":
        ids = {**ids, "user_id": world.ids["staff-a2"]}
    if "session_id" in names:
        ids = {**ids, "session_id": world.open_session("demo-admin")["id"]}
    values = {**{name: world.targets()[name] for name in names - set(ids)}, **ids}
    kwargs: dict[str, Any] = {}
    if cell.writes:
        body = (
            _case_body(cell, world, ids)
            if cell.names_a_subject and "incident_id" not in ids
            else _other_body(cell, world, ids)
        )
        if body is not None:
            kwargs["json"] = body
    if cell.listed is not None:
        query, _ = LISTS[cell.template]
        kwargs["params"] = _query(query, subject.key)
    absent = None
    if cell.concealed:
        missing = {**values, **{name: MISSING for name in ids}}
        absent_kwargs = dict(kwargs)
        if "json" in kwargs and "case_ids" in kwargs["json"]:
            absent_kwargs["json"] = {**kwargs["json"], "case_ids": [MISSING]}
        absent = (_fill(cell.template, missing), absent_kwargs)
    if cell.template == f"{API}/auth/mfa/totp/confirm" and cell.column != "ano":
        # An enrolment to confirm: started (again) before each cell.
        world.ok("POST", "/auth/mfa/totp", cell.column, 200, json={"password": DEMO_PASSWORD})
    if cell.template == f"{API}/users/{{user_id}}/attestations/{{level}}":
        # The attestation to withdraw exists: recorded (again) before each cell.
        badge = {
            "level": "explorer",
            "obtained_on": "2026-01-15",
            "badge_url": "https://badges.example.org/sexto/explorer/m",
        }
        world.ok("POST", f"/users/{values['user_id']}/attestations", "adm", 200, json=badge)
    return Call(_fill(cell.template, values), kwargs, absent)


def _pending_grant(world: World) -> str:
    """A fresh grant waiting for approval: the admin gives a new person school A
    (board A), and board A's privacy officer sees it waiting."""
    user = world.ok(
        "POST", "/users", "adm", 201, json=_user_body(f"attente.{uuid.uuid4().hex[:8]}", world.ids["school_a"])
    )
    waiting = world.ok("GET", "/approvals", "pva", 200, params={"limit": 100})["items"]
    return next(item["id"] for item in waiting if item["account_id"] == user["id"])


# --- lists: is the situation's case (entry) among the items? -------------------------------------


def _listed(world: World, cell: Cell, response, key: str) -> bool:
    query, name_of = LISTS[cell.template]
    params = _query(query, key)
    seen: set[str] = set()
    for _ in range(500):
        if response.headers["content-type"].startswith("application/jsonl"):
            items = [json.loads(line) for line in response.text.splitlines() if line.strip()]
            cursor = response.headers.get("x-next-cursor")
        else:
            page = response.json()
            items, cursor = page["items"], page.get("next_cursor")
            if cell.template == f"{API}/police/cases" and not items:
                cursor = None  # the feed's cursor is never null: an empty page is the end
        seen.update(str(name_of(item)) for item in items)
        if not cursor:
            return key in seen
        response = world.call("GET", cell.template, cell.column, params={**params, "cursor": cursor})
        assert response.status_code == 200, response.text
    raise AssertionError(f"{cell.id}: the list does not end")


# --- the tests -----------------------------------------------------------------------------------


def _stable(headers) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.lower() not in VOLATILE_HEADERS}


@pytest.mark.parametrize("cell", [_param(cell) for cell in CELLS])
def test_cell(world: World, cell: Cell):
    expected = world.expected(cell)
    subject = None
    if cell.situation != "-":
        # A write that should go through changes the case (entry): it gets one of its own.
        fresh = cell.writes and expected < 300 and (cell.method, cell.template) not in LEAVES_THE_CASE
        subject = world.subject(cell.situation, fresh=fresh)
    call = _call(cell, world, subject)
    if cell.template == f"{API}/police/cases":
        world.settle()
    response = world.call(cell.method, call.path, cell.column, **call.kwargs)
    if (cell.method, cell.template) in REVOKES_THE_CALLERS_TOKEN and response.status_code < 300:
        # The column's token is ended: the cells after it get a live one.
        world.sign_in_again(cell.column)
    if cell.writes and response.status_code < 300 and subject is world.shared.get(cell.situation):
        world.discard(cell.situation)  # it went through: the next cells need a clean one
    if cell.template.startswith(API) and response.status_code in (401, 403, 404):
        named = subject.ids.get("case_id") if subject and cell.names_a_subject else None
        world.denials.append((response.headers["x-request-id"], response.status_code, cell.id, named))
    assert response.status_code == expected, (
        f"{cell.id}: expected {expected}, got {response.status_code} {response.text[:300]}"
    )
    if cell.listed is not None:
        shown = _listed(world, cell, response, subject.key)
        assert shown is cell.listed, (
            f"{cell.id}: the {cell.situation} case {'is missing from' if cell.listed else 'is shown in'} the list"
        )
    if call.absent is not None:
        absent = world.absent(cell.method, cell.column, *call.absent)
        assert absent.status_code == expected, f"{cell.id}: something that does not exist gives {absent.status_code}"
        assert response.json() == absent.json(), f"{cell.id}: the body tells a hidden case from a missing one"
        assert _stable(response.headers) == _stable(absent.headers), (
            f"{cell.id}: the headers tell a hidden case from a missing one"
        )


def _served_routes(app) -> set[tuple[str, str]]:
    served = set()
    for path, methods, _route in api_routes(app):
        for method in methods:
            if method == "HEAD" and "GET" in methods:
                continue  # answered by the GET
            served.add((method, path))
    return served


def test_every_served_route_has_rows_and_every_row_a_route(world: World):
    served = _served_routes(world.client.app)
    unlisted = sorted(served - set(MATRIX))
    gone = sorted(set(MATRIX) - served)
    assert not unlisted, "routes the app serves with no row in the matrix:\n" + "\n".join(
        f"  {m} {p}" for m, p in unlisted
    )
    assert not gone, "rows in the matrix for routes the app does not serve:\n" + "\n".join(
        f"  {m} {p}" for m, p in gone
    )


def test_every_refusal_of_the_matrix_is_audited(world: World):
    """SPEC §3: every denial is audited, as one entry with its status, and
    one on a route that names a case (or its device, person or hold) names
    that case, whoever was refused, so that the case's access log shows it
    (runs after the cells of its engine)."""
    if not world.denials:
        pytest.skip("no cell ran on this engine")
    engine = create_engine(world.database_url)
    try:
        found: dict[str, list[tuple[str, int, str | None]]] = {}
        with engine.connect() as connection:
            ids = [request_id for request_id, *_ in world.denials]
            for start in range(0, len(ids), 500):
                rows = connection.execute(
                    text(
                        "SELECT request_id, outcome, status_code, case_id FROM audit_entry WHERE request_id IN :ids"
                    ).bindparams(bindparam("ids", expanding=True)),
                    {"ids": ids[start : start + 500]},
                ).all()
                for request_id, outcome, status, case_id in rows:
                    found.setdefault(request_id, []).append((outcome, status, case_id))
    finally:
        engine.dispose()
    wrong = [
        f"{cell}: {found.get(request_id)}"
        for request_id, status, cell, named in world.denials
        if [entry[:2] for entry in found.get(request_id, [])] != [("denied", status)]
        or (named is not None and found[request_id][0][2] != named)
    ]
    assert not wrong, f"{len(wrong)} refusals not audited as one denied entry naming its case:\n" + "\n".join(
        wrong[:40]
    )


def test_every_route_has_the_situations_it_depends_on():
    for (method, template), rows in MATRIX.items():
        situations = "".join(sorted("".join(rows)))
        assert len(situations) == len(set(situations)), f"{method} {template}: a situation has two rows"
        lists = any(_TOKEN.match(token).group(2) for row in rows.values() for token in row.split())
        if "{incident_id}" in template:
            wanted = ["I"]
        elif any(f"{{{name}}}" in template for name in SUBJECT_IDS) or (method, template) in LEAVES_THE_CASE:
            wanted = [CASES]
        elif lists:
            wanted = [CASES, "I"]
        else:
            wanted = ["-"]
        assert situations in {"".join(sorted(w)) for w in wanted}, (
            f"{method} {template}: situations {situations!r}, expected one of {wanted}"
        )
        assert lists == (method == "GET" and template in LISTS), (
            f"{method} {template}: list notation and LISTS disagree"
        )


def test_the_matrix_has_every_cell():
    assert len(CELLS) == len({cell.id for cell in CELLS}), "a cell appears twice"
    assert len(CELLS) == CELL_COUNT, f"{len(CELLS)} cells: update CELL_COUNT (and docs/security.md)"
    assert set(DISCREPANCIES) <= {cell.key for cell in CELLS}, "a discrepancy names no cell"
    assert set(BEARER_ROWS) <= set(MATRIX), "a bearer row names no route"
    assert all(len(row.split()) == len(COLUMNS) for row in BEARER_ROWS.values())
