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
    # Problem titles: a short summary of the problem, one per HTTP status (RFC 9457 `title`)
    "title_400": {"fr": "Requête mal formée.", "en": "Malformed request."},
    "title_401": {"fr": "Authentification requise.", "en": "Authentication required."},
    "title_403": {"fr": "Action non permise.", "en": "Action not allowed."},
    "title_404": {"fr": "Ressource introuvable.", "en": "Resource not found."},
    "title_405": {"fr": "Méthode non permise.", "en": "Method not allowed."},
    "title_409": {"fr": "Refusé dans l'état actuel.", "en": "Refused in the current state."},
    "title_412": {"fr": "La ressource a changé.", "en": "The resource has changed."},
    "title_413": {"fr": "Requête trop volumineuse.", "en": "Request too large."},
    "title_415": {"fr": "Type de contenu refusé.", "en": "Unsupported content type."},
    "title_422": {"fr": "Contenu de la requête invalide.", "en": "Invalid request content."},
    "title_428": {"fr": "Précondition requise.", "en": "Precondition required."},
    "title_429": {"fr": "Trop de tentatives.", "en": "Too many attempts."},
    "title_500": {"fr": "Erreur interne.", "en": "Internal error."},
    "title_503": {"fr": "Service indisponible.", "en": "Service unavailable."},
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
        "en": "Content type refused: this service only accepts JSON. No image, video or file is ever accepted.",
    },
    "media_refused": {
        "fr": "Contenu refusé : la requête contient une image, une vidéo, un son ou d'autres données binaires "
        "(URI « data: », ou base64, base32, base85 ou hexadécimal qui n'est pas du texte). "
        "Personne ne regarde jamais le contenu : "
        "décrivez-le avec des mots dans la grille.",
        "en": "Content refused: the request carries an image, a video, a sound or other binary data "
        "(a 'data:' URI, or base64, base32, base85 or hex that is not text). Nobody ever looks at the content: "
        "describe it in words in the grid.",
    },
    "nul_character": {
        "fr": "Le texte contient un caractère NUL, refusé.",
        "en": "The text contains a NUL character, which is refused.",
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
    "data_keys_unusable": {
        "fr": "Le service n'est pas prêt : les données chiffrées ne se lisent pas avec les clés de données "
        "configurées (identifiant de clé : {key_ids}).",
        "en": "The service is not ready: the encrypted data cannot be read with the configured data keys "
        "(key id: {key_ids}).",
    },
    "conflict": {
        "fr": "La requête entre en conflit avec l'état actuel de la ressource.",
        "en": "The request conflicts with the current state of the resource.",
    },
    # Field errors of a 422 (app.field_errors): what is wrong with one field
    "field_missing": {"fr": "Champ requis.", "en": "Field required."},
    "field_unknown": {
        "fr": "Champ inconnu : il n'est pas accepté ici.",
        "en": "Unknown field: it is not accepted here.",
    },
    "field_not_allowed": {
        "fr": "Valeur non permise. Valeurs permises : {expected}.",
        "en": "Value not allowed. Allowed values: {expected}.",
    },
    "field_kind_not_allowed": {
        "fr": "Valeur non permise pour {discriminator}. Valeurs permises : {expected}.",
        "en": "Value not allowed for {discriminator}. Allowed values: {expected}.",
    },
    "field_kind_missing": {
        "fr": "Le champ {discriminator} est requis : il dit de quel type est le corps.",
        "en": "The field {discriminator} is required: it says which kind of body this is.",
    },
    "field_empty": {"fr": "Ne peut pas être vide.", "en": "Cannot be empty."},
    "field_too_short": {"fr": "Au moins {min_length} caractères.", "en": "At least {min_length} characters."},
    "field_too_long": {"fr": "Au plus {max_length} caractères.", "en": "At most {max_length} characters."},
    "field_text": {"fr": "Texte attendu.", "en": "Text expected."},
    "field_format": {"fr": "Le texte n'a pas le format attendu.", "en": "The text does not have the expected format."},
    "field_integer": {"fr": "Nombre entier attendu.", "en": "Whole number expected."},
    "field_number": {"fr": "Nombre attendu.", "en": "Number expected."},
    "field_boolean": {"fr": "Booléen attendu : true ou false.", "en": "Boolean expected: true or false."},
    "field_id": {"fr": "Identifiant attendu : un UUID en texte.", "en": "Id expected: a UUID as text."},
    "field_datetime": {
        "fr": "Date et heure attendues en texte RFC 3339, avec le fuseau (ex. 2026-11-20T10:15:00-05:00).",
        "en": "Date and time expected as RFC 3339 text, with the offset (e.g. 2026-11-20T10:15:00-05:00).",
    },
    # The range of ``app.schemas.Instant`` (EARLIEST_INSTANT, LATEST_INSTANT).
    "instant_range": {
        "fr": "L'instant doit être entre 1970-01-01T00:00:00Z et 9999-01-01T00:00:00Z, son fuseau appliqué.",
        "en": "The instant must be between 1970-01-01T00:00:00Z and 9999-01-01T00:00:00Z, its offset applied.",
    },
    "field_timezone": {
        "fr": "L'heure doit indiquer son fuseau (ex. -05:00 ou Z).",
        "en": "The time must state its offset (e.g. -05:00 or Z).",
    },
    "field_date": {"fr": "Date attendue en texte (AAAA-MM-JJ).", "en": "Date expected as text (YYYY-MM-DD)."},
    "field_at_least": {"fr": "Doit être d'au moins {ge}.", "en": "Must be at least {ge}."},
    "field_greater_than": {"fr": "Doit être plus grand que {gt}.", "en": "Must be greater than {gt}."},
    "field_at_most": {"fr": "Doit être d'au plus {le}.", "en": "Must be at most {le}."},
    "field_less_than": {"fr": "Doit être plus petit que {lt}.", "en": "Must be less than {lt}."},
    "field_too_few": {"fr": "Au moins {min_length} élément(s).", "en": "At least {min_length} item(s)."},
    "field_too_many": {"fr": "Au plus {max_length} élément(s).", "en": "At most {max_length} item(s)."},
    "field_unique": {"fr": "Chaque élément ne peut paraître qu'une fois.", "en": "Each item may appear only once."},
    "field_list": {"fr": "Liste attendue.", "en": "List expected."},
    "field_object": {"fr": "Objet JSON attendu.", "en": "JSON object expected."},
    "field_type": {"fr": "Type de valeur attendu : {expected}.", "en": "Expected type of value: {expected}."},
    "field_url": {"fr": "Adresse web invalide.", "en": "Invalid web address."},
    "field_no_form": {
        "fr": "La valeur ne correspond à aucune des formes permises (voir le gabarit).",
        "en": "The value matches none of the allowed forms (see the template).",
    },
    "field_answer_required": {"fr": "Réponse requise : {names}.", "en": "Answer required: {names}."},
    "field_answer_unknown": {
        "fr": "Ne fait pas partie de cette version de la grille : {names}.",
        "en": "Not part of this version of the grid: {names}.",
    },
    "field_invalid": {"fr": "Valeur invalide.", "en": "Invalid value."},
    "field_url_scheme": {"fr": "L'adresse doit utiliser {expected}.", "en": "The address must use {expected}."},
    "password_common": {
        "fr": "Ce mot de passe figure parmi les mots de passe courants ou divulgués : choisissez-en un autre, "
        "par exemple une phrase de passe de quelques mots.",
        "en": "This password is among common or breached passwords: choose another, for example a passphrase "
        "of a few words.",
    },
    "password_personal": {
        "fr": "Le mot de passe ne doit contenir ni le nom d'utilisateur, ni le nom de la personne, ni le nom "
        "du service.",
        "en": "The password must not contain the username, the person's name or the service's name.",
    },
    "password_current_wrong": {
        "fr": "Le mot de passe actuel n'est pas le bon.",
        "en": "The current password is not the right one.",
    },
    "password_unchanged": {
        "fr": "Le nouveau mot de passe doit différer de l'actuel.",
        "en": "The new password must differ from the current one.",
    },
    # Protocol confirmations (a 422 without one names the rule)
    "device_not_switched_off": {
        "fr": "L'appareil doit d'abord être éteint : demandez à l'élève de l'éteindre, puis "
        "confirmez-le (switched_off_confirmed: true).",
        "en": "The device must be switched off first: ask the student to switch it off, then "
        "confirm it (switched_off_confirmed: true).",
    },
    "content_must_not_be_viewed": {
        "fr": "Le contenu de l'appareil ne doit jamais être regardé : confirmez que personne ne l'a regardé "
        "(content_not_viewed: true).",
        "en": "The device's content must never be viewed: confirm that nobody looked at it (content_not_viewed: true).",
    },
    "media_inquiry_not_referred": {
        "fr": "Une demande des médias est dirigée vers la personne responsable des communications, sans "
        "réponse tirée du dossier : confirmez-le (referred_to_communications: true).",
        "en": "A media inquiry is referred to the communications officer, never answered from the case: "
        "confirm it (referred_to_communications: true).",
    },
    # Cases and the protocol
    "architect_required": {
        "fr": "Seul le personnel titulaire de l'attestation Sexto « architecte » peut traiter un dossier.",
        "en": "Only staff holding the Sexto 'architect' attestation may handle cases.",
    },
    "school_out_of_scope": {
        "fr": "Cette école n'est pas dans votre portée.",
        "en": "This school is not in your scope.",
    },
    "kit_not_permitted": {
        "fr": "La trousse Sexto ne peut pas être utilisée à cette école : le service de police qui la "
        "dessert n'a pas d'entente en vigueur avec le DPCP aujourd'hui. Communiquez avec votre "
        "direction ou votre service de police.",
        "en": "The Sexto kit may not be used at this school: the police force serving it has no "
        "agreement with the DCPP in force today. Contact your school leadership or your police force.",
    },
    "field_locked": {
        "fr": "Ces champs ne peuvent plus être modifiés à l'étape « {status} » : {fields}.",
        "en": "These fields can no longer be changed at the '{status}' stage: {fields}.",
    },
    "transition_not_allowed": {
        "fr": "L'action « {action} » n'est pas possible à l'étape « {status} » : elle se prend aux étapes "
        "suivantes : {sources}. À l'étape « {status} », les actions possibles sont : {instead}.",
        "en": "The action '{action}' is not possible at the '{status}' stage: it is taken at these "
        "stages: {sources}. At the '{status}' stage, the possible actions are: {instead}.",
    },
    "reporter_grid_required": {
        "fr": "Complétez d'abord la grille d'évaluation avec la personne qui a signalé la situation "
        "(ou consignez l'exception : un parent signale une situation survenue hors de l'école).",
        "en": "First complete the evaluation grid with the person who reported the situation "
        "(or record the exception: a parent reporting a situation outside school).",
    },
    "reporter_grid_skip_not_allowed": {
        "fr": "La grille avec la personne qui signale ne peut être omise que lorsqu'un parent signale "
        "une situation survenue hors de l'école.",
        "en": "The grid with the reporter may be skipped only when a parent reports a situation "
        "that took place outside school.",
    },
    "police_flags_block_resolution": {
        "fr": "Le dossier ne peut pas être réglé à l'école : {flags}. Confiez-le au policier ou à la "
        "policière de l'école.",
        "en": "The case cannot be resolved at school: {flags}. Hand it off to the school's police officer.",
    },
    "hand_off_required": {
        "fr": "Le dossier doit être confié à la police avant d'être fermé : {flags}.",
        "en": "The case must be handed off to police before it is closed: {flags}.",
    },
    "parents_not_notified": {
        "fr": "Les parents de {participants} n'ont pas été avisés (ni d'exemption justifiée consignée).",
        "en": "The parents of {participants} have not been notified (nor a justified exemption recorded).",
    },
    "dpj_report_missing": {
        "fr": "Un signalement à la DPJ doit être consigné : du matériel d'abus pédosexuel est soupçonné.",
        "en": "A report to the DPJ must be recorded: child sexual abuse material is suspected.",
    },
    "device_in_school_custody": {
        "fr": "Des appareils sont encore sous la garde de l'école : {devices}. Ils doivent être remis à "
        "la police (seule la police les rend à leur propriétaire).",
        "en": "Devices are still in school custody: {devices}. They must be transferred to police "
        "(only police return them to their owner).",
    },
    "reopen_after_hand_off": {
        "fr": "Un dossier confié à la police ne peut pas être rouvert par l'école.",
        "en": "A case handed off to police cannot be reopened by the school.",
    },
    "reason_required": {
        "fr": "Une raison est requise pour cette action.",
        "en": "A reason is required for this action.",
    },
    "officer_required": {
        "fr": "Indiquez le policier ou la policière contacté·e pour confier le dossier.",
        "en": "Name the police officer contacted to hand the case off.",
    },
    "investigation_handed_off": {
        "fr": "Le dossier est confié à la police : l'école ne poursuit plus l'enquête (aucune grille, "
        "aucune modification des constats). Le soutien aux élèves, les notes et les contacts avec "
        "les parents continuent.",
        "en": "The case is handed off to police: the school no longer investigates (no grids, no "
        "change to the findings). Support to students, notes and parent contacts go on.",
    },
    "case_not_open": {
        "fr": "Le dossier n'est plus ouvert à l'étape « {status} ».",
        "en": "The case is no longer open at the '{status}' stage.",
    },
    "participant_flagged_malicious": {
        "fr": "Une intention malveillante est soupçonnée chez {participant} : ne complétez pas la grille "
        "avec cette personne. Confisquez son appareil pour arrêter la diffusion et contactez la police.",
        "en": "Malicious intent is suspected of {participant}: do not complete the grid with this person. "
        "Confiscate their device to stop the spreading and contact the police.",
    },
    "participant_refused": {
        "fr": "{participant} refuse de participer : la grille ne peut pas être complétée. Contactez la police.",
        "en": "{participant} refuses to take part: the grid cannot be completed. Contact the police.",
    },
    "unknown_participant": {
        "fr": "Cette personne ne fait pas partie du dossier.",
        "en": "This person is not part of the case.",
    },
    "participant_superseded": {
        "fr": "Cette fiche a été remplacée par une correction : utilisez la plus récente.",
        "en": "This record was superseded by a correction: use the latest one.",
    },
    "participant_already_flagged": {
        "fr": "Ce signalement est déjà consigné pour cette personne.",
        "en": "This flag is already recorded for this person.",
    },
    "unknown_grid_version": {
        "fr": "Version de grille inconnue : {version}.",
        "en": "Unknown grid version: {version}.",
    },
    "grid_invalid": {
        "fr": "Les réponses ne respectent pas la version {version} de la grille.",
        "en": "The answers do not follow version {version} of the grid.",
    },
    "grid_supersedes_invalid": {
        "fr": "Une correction doit remplacer la soumission la plus récente de la même personne.",
        "en": "A correction must supersede the latest submission for the same person.",
    },
    "parent_contact_minor_only": {
        "fr": "L'avis aux parents vise une personne mineure du dossier.",
        "en": "Parent notification is for a minor participant of the case.",
    },
    "custody_out_of_order": {
        "fr": "Étape de garde impossible maintenant : après « {last} », les étapes possibles sont : {allowed}.",
        "en": "Custody step not possible now: after '{last}', the possible steps are: {allowed}.",
    },
    "custody_final": {
        "fr": "La chaîne de possession de cet appareil est terminée (« {last} »).",
        "en": "This device's chain of custody is complete ('{last}').",
    },
    "custody_police_only": {
        "fr": "Seule la police peut consigner la remise d'un appareil à son propriétaire ou sa conservation comme preuve.",
        "en": "Only police can record a device's return to its owner or its retention as evidence.",
    },
    "custody_school_only": {
        "fr": "La confiscation et l'entreposage à l'école sont consignés par le personnel scolaire.",
        "en": "Confiscation and storage at school are recorded by school staff.",
    },
    "custody_time_out_of_order": {
        "fr": "Le moment de cette étape précède celui de l'étape précédente.",
        "en": "This step's time is before the previous step's.",
    },
    "time_in_future": {
        "fr": "Un événement consigné ne peut pas être dans le futur : {fields}. Une heure peut devancer "
        "l'horloge du serveur d'au plus {minutes} minutes. Une date est au plus celle du jour (heure locale).",
        "en": "A recorded event cannot be in the future: {fields}. A time may be ahead of the server's "
        "clock by at most {minutes} minutes. A date is today's at the latest (local time).",
    },
    "team_member_invalid": {
        "fr": "Seul le personnel scolaire de l'école du dossier peut être ajouté à l'équipe.",
        "en": "Only school staff of the case's school can be added to the team.",
    },
    "police_part_closed": {
        "fr": "Le volet policier de ce dossier est fermé.",
        "en": "The police part of this case is closed.",
    },
    "already_acknowledged": {
        "fr": "La réception de ce dossier est déjà consignée.",
        "en": "Receipt of this case is already recorded.",
    },
    "case_destroyed": {
        "fr": "Les renseignements personnels de ce dossier ont été détruits selon la règle de conservation : il ne peut plus changer.",
        "en": "This case's personal information was destroyed under the retention rule: it can no longer change.",
    },
    "legal_hold_not_applicable": {
        "fr": "Une mise sous garde légale vise un dossier remis à la police ou signalé à la DPJ.",
        "en": "A legal hold is for a case handed off to police or reported to the DPJ.",
    },
    "legal_hold_lifted": {
        "fr": "Cette garde légale est déjà levée.",
        "en": "This legal hold is already lifted.",
    },
    "legal_hold_other_party": {
        "fr": "Seul le rôle qui a placé cette garde légale peut la lever.",
        "en": "Only the role that placed this legal hold can lift it.",
    },
    "incident_case_unknown": {
        "fr": "Un des dossiers nommés n'est pas un dossier de votre centre de services.",
        "en": "One of the cases named is not a case of your school board.",
    },
    "audit_chain_rewritten": {
        "fr": "La chaîne d'audit {chain} ne contient plus l'entrée {seq} signée auparavant : aucun point de "
        "contrôle n'est signé. Lancez la vérification du journal.",
        "en": "The audit chain {chain} no longer holds the entry {seq} signed before: no checkpoint is signed. "
        "Run the audit log's verification.",
    },
    "incident_entry_unknown": {
        "fr": "Une des entrées du journal nommées ne concerne pas votre centre de services.",
        "en": "One of the audit entries named does not concern your school board.",
    },
    "incident_field_required": {
        "fr": "Le champ {field} du registre ne peut pas être vidé.",
        "en": "The register's field {field} cannot be emptied.",
    },
    "incident_dates_order": {
        "fr": "Les dates de l'incident ne se suivent pas (début, fin, découverte).",
        "en": "The incident's dates are out of order (start, end, discovery).",
    },
    "review_period_invalid": {
        "fr": "La période d'examen doit être non vide et d'au plus {days} jours.",
        "en": "The review period must be non-empty and at most {days} days long.",
    },
    # Next steps (the protocol as a checklist)
    "step_reporter_grid": {
        "fr": "Rencontrer la personne qui signale et compléter la grille avec elle (sauf parent signalant une situation hors de l'école).",
        "en": "Meet the person reporting and complete the grid with them (unless a parent reports a situation outside school).",
    },
    "step_participant_grid": {
        "fr": "Rencontrer {subject} séparément et compléter la grille.",
        "en": "Meet {subject} separately and complete the grid.",
    },
    "step_confiscate_malicious": {
        "fr": "Intention malveillante soupçonnée chez {subject} : confisquer son appareil pour arrêter la diffusion (sans grille).",
        "en": "Malicious intent suspected of {subject}: confiscate their device to stop the spreading (no grid).",
    },
    "step_contact_police": {
        "fr": "Contacter le policier ou la policière de l'école et lui confier le dossier ({subject}).",
        "en": "Contact the school's police officer and hand the case off ({subject}).",
    },
    "step_switch_off_confiscate": {
        "fr": "Matériel d'abus pédosexuel soupçonné : demander d'éteindre l'appareil et le confisquer, sans jamais regarder le contenu.",
        "en": "Child sexual abuse material suspected: ask for the device to be switched off and confiscate it, never looking at the content.",
    },
    "step_hand_off": {
        "fr": "Confier le dossier au policier ou à la policière qui dessert l'école.",
        "en": "Hand the case off to the police officer serving the school.",
    },
    "step_dpj_report": {
        "fr": "Faire un signalement à la DPJ et le consigner.",
        "en": "Report to the DPJ and record the report.",
    },
    "step_takedown": {
        "fr": "Aider la victime à faire retirer le contenu (Cyberaide.ca / AidezMoiSVP.ca, Take It Down).",
        "en": "Help the victim have the content taken down (Cybertip.ca / AidezMoiSVP.ca, Take It Down).",
    },
    "step_adult_involved": {
        "fr": "Un adulte est impliqué : la police doit être avisée.",
        "en": "An adult is involved: the police must be notified.",
    },
    "step_wellbeing": {
        "fr": "Inquiétude pour le bien-être : offrir du soutien et des ressources de crise sans délai (ex. 1 866 APPELLE, Jeunesse, J'écoute).",
        "en": "Well-being concern: offer support and crisis resources without delay (e.g. 1 866 APPELLE, Kids Help Phone).",
    },
    "step_parents": {
        "fr": "Aviser dès que possible les parents de {subject} (ou consigner une exemption justifiée).",
        "en": "Notify the parents of {subject} as soon as possible (or record a justified exemption).",
    },
    "step_device_to_police": {
        "fr": "Remettre l'appareil {subject} à la police : seule la police le rend à son propriétaire.",
        "en": "Transfer device {subject} to police: only police return it to its owner.",
    },
    "idempotency_key_reused": {
        "fr": "Cette clé d'idempotence a déjà servi pour une autre requête.",
        "en": "This idempotency key was already used for another request.",
    },
    "idempotency_secret_not_replayed": {
        "fr": "Cette requête a déjà réussi, et sa réponse contenait un secret montré une seule fois : "
        "elle n'est pas rejouée. Faites une rotation du secret s'il a été perdu.",
        "en": "This request already succeeded, and its answer held a secret shown only once: "
        "it is not replayed. Rotate the secret if it was lost.",
    },
    "idempotency_key_invalid": {
        "fr": "La clé d'idempotence doit compter de 1 à 200 caractères imprimables.",
        "en": "The idempotency key must be 1 to 200 printable characters.",
    },
    "precondition_failed": {
        "fr": "Le dossier a changé depuis votre lecture (ETag périmé) : relisez-le, puis réessayez.",
        "en": "The case changed since you read it (stale ETag): read it again, then retry.",
    },
    "precondition_required": {
        "fr": "Les systèmes intégrés doivent envoyer If-Match avec l'ETag du dossier pour une transition.",
        "en": "Integrated systems must send If-Match with the case's ETag for a transition.",
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
        "fr": "Type d'autorisation non pris en charge : utilisez « password » ou « client_credentials ».",
        "en": "Unsupported grant type: use 'password' or 'client_credentials'.",
    },
    "login_throttled": {
        "fr": "Trop de tentatives de connexion échouées pour ce compte. Réessayez dans {retry_after} secondes.",
        "en": "Too many failed sign-in attempts for this account. Try again in {retry_after} seconds.",
    },
    "signin_rate_limited": {
        "fr": "Trop de tentatives de connexion depuis cette adresse ou pour le service. "
        "Réessayez dans {retry_after} secondes.",
        "en": "Too many sign-in attempts from this address or for the service. Try again in {retry_after} seconds.",
    },
    "signin_busy": {
        "fr": "Trop de connexions sont en cours de vérification. Réessayez dans {retry_after} secondes.",
        "en": "Too many sign-ins are being checked. Try again in {retry_after} seconds.",
    },
    "rate_limited": {
        "fr": "Trop de demandes de cette opération par ce compte. Réessayez dans {retry_after} secondes.",
        "en": "Too many requests of this operation by this account. Try again in {retry_after} seconds.",
    },
    # The second factor (app.auth.mfa)
    "mfa_required": {
        "fr": "Ce compte a un second facteur : envoyez aussi le code de votre application d'authentification "
        "(champ « otp »), ou un code de récupération.",
        "en": "This account has a second factor: send the code of your authenticator app too ('otp' field), "
        "or a recovery code.",
    },
    "mfa_code_invalid": {
        "fr": "Le code à usage unique est erroné ou a déjà servi : attendez le code suivant de votre application.",
        "en": "The one-time code is wrong or was already used: wait for your app's next code.",
    },
    "mfa_enrolment_required": {
        "fr": "Votre rôle exige un second facteur : inscrivez une application d'authentification "
        "(POST /api/v1/auth/mfa/totp) avant toute autre opération.",
        "en": "Your role requires a second factor: enrol an authenticator app (POST /api/v1/auth/mfa/totp) "
        "before anything else.",
    },
    "mfa_people_only": {
        "fr": "Seule une personne a un second facteur ; un compte de service s'authentifie par son secret.",
        "en": "Only a person has a second factor; a service account authenticates with its secret.",
    },
    "mfa_already_enrolled": {
        "fr": "Un second facteur est déjà en usage : retirez-le d'abord (avec un code) pour en inscrire un autre.",
        "en": "A second factor is already in use: remove it first (with a code) to enrol another.",
    },
    "mfa_no_enrolment": {
        "fr": "Aucune inscription en cours : commencez par POST /api/v1/auth/mfa/totp.",
        "en": "No enrolment in progress: start with POST /api/v1/auth/mfa/totp.",
    },
    "mfa_not_enrolled": {
        "fr": "Aucun second facteur n'est en usage pour ce compte.",
        "en": "No second factor is in use for this account.",
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
        "fr": "au moins une organisation auditée, ou la plateforme, est requise.",
        "en": "at least one audited organization, or the platform, is required.",
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
    "scope_not_in_force": {
        "fr": "Votre accès n'est pas encore en vigueur : il attend l'approbation d'une personne de votre "
        "organisation, ou le changement de votre mot de passe temporaire.",
        "en": "Your access is not in force yet: it waits for approval by a person of your organization, "
        "or for your temporary password to be changed.",
    },
    "csrf_refused": {
        "fr": "Requête refusée : une modification faite avec une session de navigateur doit venir du service "
        "lui-même et porter l'en-tête X-CSRF-Token de la session.",
        "en": "Request refused: a change made with a browser session must come from the service itself and "
        "carry the session's X-CSRF-Token header.",
    },
    "sso_refused": {
        "fr": "Connexion refusée. Si vous devriez avoir accès, demandez à l'administrateur de vérifier votre "
        "compte et l'adresse courriel qui y est inscrite.",
        "en": "Sign-in refused. If you should have access, ask the administrator to check your account and the "
        "email address recorded in it.",
    },
    "sso_unavailable": {
        "fr": "Le fournisseur d'identité ne répond pas ou n'est pas configuré : réessayez plus tard.",
        "en": "The identity provider does not answer or is not set up: try again later.",
    },
    "provider_taken": {
        "fr": "Un fournisseur d'identité avec cet émetteur et cet identifiant client existe déjà.",
        "en": "An identity provider with this issuer and client id exists already.",
    },
    "email_taken": {
        "fr": "Cette adresse courriel est déjà celle d'un autre compte.",
        "en": "This email address is another account's already.",
    },
    "organization_unknown": {
        "fr": "Cette organisation n'existe pas.",
        "en": "This organization does not exist.",
    },
    "issuer_not_https": {
        "fr": "L'émetteur doit être une adresse https, sans requête ni fragment.",
        "en": "The issuer must be an https address, without query or fragment.",
    },
    "one_organization": {
        "fr": "Donnez exactement un de board_id et police_force_id.",
        "en": "Give exactly one of board_id and police_force_id.",
    },
    "password_change_required": {
        "fr": "Votre mot de passe est temporaire : changez-le d'abord (POST /api/v1/auth/password).",
        "en": "Your password is temporary: change it first (POST /api/v1/auth/password).",
    },
    "no_current_session": {
        "fr": "Cette requête n'a pas été faite avec une session de navigateur.",
        "en": "This request was not made with a browser session.",
    },
    "password_people_only": {
        "fr": "Seule une personne change son mot de passe ; un compte de service reçoit un nouveau secret.",
        "en": "Only a person changes their password; a service account is given a new secret.",
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


class MessageRef:
    """A message still to translate: a parameter of another message, or a
    detail that goes into a problem document in the caller's language."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params

    def translate(self, language: Language) -> str:
        return translate(self.key, language, **self.params)


def translate(key: str, language: Language, **params: object) -> str:
    text = MESSAGES[key][language]
    return text.format(**params) if params else text
