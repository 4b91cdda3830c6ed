"""User-facing messages in French (the default) and English.

Every message lives here under a stable key; a test fails when a key lacks a
language.  ``Accept-Language`` picks the language (RFC 9110 quality values).
"""

from __future__ import annotations

from typing import Literal

Language = Literal["fr", "en"]
LANGUAGES: tuple[Language, ...] = ("fr", "en")
DEFAULT_LANGUAGE: Language = "fr"

MESSAGES: dict[str, dict[Language, str]] = {
    # Generic problems
    "bad_request": {
        "fr": "La requête est mal formée.",
        "en": "The request is malformed.",
    },
    "validation_failed": {
        "fr": "La requête contient des champs invalides.",
        "en": "The request contains invalid fields.",
    },
    "not_found": {
        "fr": "La ressource demandée n'existe pas.",
        "en": "The requested resource does not exist.",
    },
    "method_not_allowed": {
        "fr": "Cette méthode n'est pas permise sur cette ressource.",
        "en": "This method is not allowed on this resource.",
    },
    "forbidden": {
        "fr": "Votre rôle ne permet pas cette action.",
        "en": "Your role does not allow this action.",
    },
    "not_authenticated": {
        "fr": "Authentification requise : fournissez un jeton d'accès valide.",
        "en": "Authentication required: provide a valid access token.",
    },
    "invalid_token": {
        "fr": "Le jeton d'accès est invalide ou expiré.",
        "en": "The access token is invalid or expired.",
    },
    "payload_too_large": {
        "fr": "Le corps de la requête dépasse la taille permise ({limit} octets).",
        "en": "The request body exceeds the allowed size ({limit} bytes).",
    },
    "unsupported_media_type": {
        "fr": "Type de contenu refusé : ce service accepte seulement du JSON. "
        "Aucune image, vidéo ou fichier n'est jamais accepté.",
        "en": "Content type refused: this service only accepts JSON. "
        "No image, video or file is ever accepted.",
    },
    "invalid_json": {
        "fr": "Le corps de la requête n'est pas un JSON valide.",
        "en": "The request body is not valid JSON.",
    },
    "invalid_cursor": {
        "fr": "Le curseur de pagination est invalide.",
        "en": "The pagination cursor is invalid.",
    },
    "internal_error": {
        "fr": "Une erreur interne est survenue. Aucune donnée n'a été modifiée.",
        "en": "An internal error occurred. No data was changed.",
    },
    "service_unavailable": {
        "fr": "Le service est temporairement indisponible. Réessayez plus tard.",
        "en": "The service is temporarily unavailable. Try again later.",
    },
    "conflict": {
        "fr": "La requête entre en conflit avec l'état actuel de la ressource.",
        "en": "The request conflicts with the current state of the resource.",
    },
    # Authentication
    "invalid_grant": {
        "fr": "Nom d'utilisateur ou mot de passe invalide.",
        "en": "Invalid username or password.",
    },
    "invalid_client": {
        "fr": "Identifiant ou secret de client invalide.",
        "en": "Invalid client id or secret.",
    },
    "unsupported_grant_type": {
        "fr": "Type d'autorisation non pris en charge : utilisez « password » "
        "ou « client_credentials ».",
        "en": "Unsupported grant type: use 'password' or 'client_credentials'.",
    },
    "login_throttled": {
        "fr": "Trop de tentatives de connexion échouées pour ce compte. "
        "Réessayez dans {retry_after} secondes.",
        "en": "Too many failed sign-in attempts for this account. "
        "Try again in {retry_after} seconds.",
    },
    # Administration
    "username_taken": {
        "fr": "Ce nom d'utilisateur est déjà utilisé.",
        "en": "This username is already taken.",
    },
    "name_taken": {
        "fr": "Ce nom est déjà utilisé.",
        "en": "This name is already taken.",
    },
    "unknown_reference": {
        "fr": "Une organisation référencée n'existe pas : {field}.",
        "en": "A referenced organization does not exist: {field}.",
    },
    "scope_invalid_for_role": {
        "fr": "La portée ne convient pas au rôle « {role} » : {reason}",
        "en": "The scope does not fit the role '{role}': {reason}",
    },
    "scope_schools_required": {
        "fr": "au moins une école ou un centre de services scolaire est requis.",
        "en": "at least one school or school board is required.",
    },
    "scope_one_police_force": {
        "fr": "exactement un service de police est requis.",
        "en": "exactly one police force is required.",
    },
    "scope_one_board": {
        "fr": "exactement un centre de services scolaire est requis.",
        "en": "exactly one school board is required.",
    },
    "scope_boards_required": {
        "fr": "au moins une organisation auditée est requise.",
        "en": "at least one audited organization is required.",
    },
    "scope_platform": {
        "fr": "l'administration vise la plateforme : aucune portée ne doit être donnée.",
        "en": "administration covers the platform: no scope may be given.",
    },
    "scope_kind_not_allowed": {
        "fr": "ce rôle ne peut pas recevoir de portée de ce type ({kind}).",
        "en": "this role cannot be given scope of this kind ({kind}).",
    },
    "attestation_for_school_staff_only": {
        "fr": "L'attestation Sexto s'adresse au personnel scolaire.",
        "en": "The Sexto attestation is for school staff.",
    },
    "agreement_dates": {
        "fr": "La date de fin de l'entente précède sa date de début.",
        "en": "The agreement's end date is before its start date.",
    },
    "service_account_admin": {
        "fr": "Un compte de service ne peut pas avoir le rôle d'administrateur.",
        "en": "A service account cannot have the admin role.",
    },
    "last_admin": {
        "fr": "Impossible de désactiver ou de changer le rôle du dernier administrateur actif.",
        "en": "The last active administrator cannot be disabled or change role.",
    },
}


def negotiate_language(accept_language: str | None) -> Language:
    """Pick ``fr`` or ``en`` from an Accept-Language header; French by default."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    best: tuple[float, int, Language] | None = None
    for position, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary not in LANGUAGES or quality <= 0:
            continue
        candidate = (quality, -position, primary)
        if best is None or candidate > best:
            best = candidate  # type: ignore[assignment]
    return best[2] if best else DEFAULT_LANGUAGE


def translate(key: str, language: Language, **params: object) -> str:
    text = MESSAGES[key][language]
    return text.format(**params) if params else text
