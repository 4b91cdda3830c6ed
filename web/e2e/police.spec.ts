// Police liaisons and DPJ reporters: their landing lists, the police side of a
// handed-off case (acknowledgement, custody, outcome), and the report to the DPJ.
import { type APIRequestContext, expect, type Page, test } from "@playwright/test";
import { PASSWORD, expectAccessible, signIn, totp } from "./helpers";

type Json = Record<string, unknown> & { id: string };

/** The API as one demo user drives it (a bearer token from the password grant). */
async function as(request: APIRequestContext, username: string) {
  const token = await request.post("/api/v1/auth/token", {
    form: { grant_type: "password", username, password: PASSWORD },
  });
  expect(token.status(), `token for ${username}`).toBe(200);
  const headers = { Authorization: `Bearer ${(await token.json()).access_token}` };
  async function call(method: "GET" | "POST", path: string, data?: unknown, status = method === "GET" ? 200 : 201) {
    const response = await request.fetch(`/api/v1${path}`, { method, headers, data });
    expect(response.status(), `${method} ${path} as ${username}: ${await response.text()}`).toBe(status);
    return (status === 204 ? {} : await response.json()) as Json;
  }
  return {
    get: (path: string) => call("GET", path),
    post: (path: string, data: unknown, status?: number) => call("POST", path, data, status),
  };
}

/** A case at school A with a depicted minor, explicit content described (a
 * DPJ report is needed), a device confiscated and stored, handed off to police A. */
async function handedOffCase(request: APIRequestContext): Promise<{ id: string; reference: string }> {
  const staff = await as(request, "demo-staff-a");
  const me = await staff.get("/auth/me");
  const school = (me.scope as { schools: { id: string }[] }).schools[0].id;
  const theCase = await staff.post("/cases", {
    school_id: school,
    reporter_type: "student",
    channel: "in_person",
    place: "school",
    summary: "Une photo intime d’une élève circulerait.",
  });
  const path = `/cases/${theCase.id}`;
  await staff.post(`${path}/transitions`, { action: "start_evaluation" }, 200);
  const person = await staff.post(`${path}/participants`, { role: "depicted", is_minor: true, name: "Élève Démo" });
  await staff.post(`${path}/grids`, {
    participant_id: person.id,
    template_version: 1,
    answers: {
      trigger: { disclosed_by: "depicted_youth", disclosed_at: "2026-11-20T10:15:00Z", place: "school" },
      nature: {
        media_kind: "photo",
        content_described: "nudity_or_breasts",
        production: "self_produced",
        depicted_ages: [15],
      },
      intentions: { intentions: ["impulsive_forwarding"] },
      extent: { recipients: "two_to_five", platforms: ["snapchat"], still_circulating: "unknown" },
      wellbeing: Object.fromEntries(
        [
          "self_harm_risk",
          "threats_or_extortion",
          "sexual_assault_alleged",
          "child_under_12_involved",
          "repeat_incident",
          "family_safety_concern",
        ].map((name) => [name, "no"]),
      ),
    },
  });
  await staff.post(`${path}/devices`, {
    kind: "phone",
    description: "Téléphone noir",
    owner_participant_id: person.id,
    switched_off_confirmed: true,
    content_not_viewed: true,
    seal_number: "SC-0042",
    storage_location: "Coffre de la direction",
  });
  await staff.post(`${path}/transitions`, { action: "hand_off", police_officer: "Agente Paquette" }, 200);
  return { id: theCase.id, reference: String(theCase.reference) };
}

function row(page: Page, caption: string, reference: string) {
  return page.getByRole("table", { name: caption }).getByRole("row").filter({ hasText: reference });
}

test("police A: the feed, acknowledgement, custody and outcome; police B never see the case", async ({ page, request }) => {
  test.setTimeout(120_000); // four sign-ins and a dozen steps
  const { id, reference } = await handedOffCase(request);

  await signIn(page, "demo-police-a", /\/police$/);
  await expect(page.getByRole("heading", { level: 1, name: "Dossiers remis à votre service" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Navigation principale" }).getByRole("link", { name: "Dossiers remis" })).toBeVisible();
  const changed = row(page, "Dossiers changés depuis votre dernière visite", reference);
  await expect(changed).toContainText("À confirmer");
  await expect(row(page, "Dossiers remis à votre service", reference)).toContainText("À confirmer");
  await expectAccessible(page, "police feed");
  // Marked as seen, the change is gone; a new one by the school shows again.
  await page.getByRole("button", { name: "Marquer ces changements comme vus" }).click();
  await expect(page.getByText("Aucun changement depuis votre dernière visite.")).toBeVisible();
  // What the browser keeps of it: the feed's cursor, an opaque position, and no case data.
  const stored = await page.evaluate(() => ({
    local: Object.entries(localStorage).filter(([k]) => k !== "sexto.language"),
    session: Object.keys(sessionStorage),
  }));
  expect(stored.session).toEqual([]);
  expect(stored.local).toHaveLength(1);
  expect(stored.local[0][0]).toMatch(/^sexto\.police\.seen\./);
  expect(stored.local[0][1]).not.toContain(reference);
  await expectAccessible(page, "police feed, nothing new");
  const staff = await as(request, "demo-staff-a");
  const people = await staff.get(`/cases/${id}/participants`);
  await staff.post(`/cases/${id}/contacts`, {
    kind: "parent_notification",
    participant_id: (people.items as Json[])[0].id,
    guardian_relationship: "mother",
    method: "phone",
    occurred_at: "2026-11-20T16:00:00Z",
  });
  await page.reload();
  await expect(changed).toContainText("Contact inscrit");

  await changed.getByRole("link", { name: `Ouvrir le dossier ${reference}` }).click();
  await expect(page.getByRole("heading", { name: "Prise en charge policière" })).toBeVisible();
  await expectAccessible(page, "case page (police A, before acknowledgement)");
  await page.getByLabel("Numéro du dossier policier (s’il est déjà ouvert)").fill("SPSJ-2026-0451");
  await page.getByRole("button", { name: "Confirmer la prise en charge" }).click();
  await expect(page.getByRole("region", { name: "Prise en charge policière" }).getByRole("status")).toContainText(
    "SPSJ-2026-0451",
  );

  // The device: taken over by the police, then returned to its owner.
  const devices = page.getByRole("region", { name: "Appareils confisqués" });
  await expect(devices.getByText("Garde actuelle")).toContainText("Confisqué");
  await devices.getByLabel("Étape", { exact: true }).selectOption("transferred_to_police");
  await devices.getByLabel("Policier ou policière (nom)").fill("Agente Paquette");
  await devices.getByLabel("Matricule").fill("4521");
  await devices.getByRole("button", { name: "Inscrire l’étape", exact: true }).click();
  await expect(devices.getByText("Garde actuelle")).toContainText("Remis à la police");
  await expectAccessible(page, "case page (police A, device with police)");
  await devices.getByLabel("Étape", { exact: true }).selectOption("returned_to_owner");
  await devices.getByRole("button", { name: "Inscrire l’étape", exact: true }).click();
  await expect(devices.getByText("Garde actuelle")).toContainText("Rendu à son propriétaire");
  await expect(devices.getByText("Chaîne de garde terminée.")).toBeVisible();

  // An out-of-order outcome is refused in words; then the outcome, and the close.
  const outcome = page.getByRole("region", { name: "Suite policière" });
  await outcome.getByLabel("Décision du DPCP").selectOption("impulsive");
  await outcome.getByLabel("Date de la décision").fill("2099-01-01");
  await outcome.getByRole("button", { name: "Enregistrer la suite policière" }).click();
  await expect(outcome.getByRole("alert")).toBeVisible();
  await expectAccessible(page, "police outcome refused");
  await outcome.getByLabel("Date de la décision").fill("2026-11-24");
  await outcome.getByLabel("Date de la rencontre de sensibilisation").fill("2026-11-27");
  await outcome.getByLabel("Fermer le volet policier").check();
  await outcome.getByRole("button", { name: "Enregistrer la suite policière" }).click();
  await expect(outcome.getByText("Volet policier fermé le")).toBeVisible();
  await expect(outcome).toContainText("Geste impulsif");
  await expectAccessible(page, "case page (police A, outcome recorded)");
  const caseUrl = page.url();
  await page.getByRole("button", { name: "Fermer la session" }).click();

  // Police B: not in their list, and the address shows a refusal, not a blank page.
  await signIn(page, "demo-police-b", /\/police$/);
  await expect(page.getByRole("heading", { level: 1, name: "Dossiers remis à votre service" })).toBeVisible();
  await expect(page.getByText(reference)).toHaveCount(0);
  await expectAccessible(page, "police feed (police B)");
  await page.goto(caseUrl);
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByText(reference)).toHaveCount(0);
  await expect(page.getByText("SPSJ-2026-0451")).toHaveCount(0);
  await expectAccessible(page, "case refused (police B)");
});

test("the DPJ reporter finds the case that needs a report and records it", async ({ page, request }) => {
  test.setTimeout(90_000);
  const { reference } = await handedOffCase(request);
  // A second factor of its own for this test: an earlier test may have enrolled one.
  const admin = await as(request, "demo-admin");
  const users = await admin.get("/users?role=dpj_reporter&limit=100");
  const dpj = (users.items as Json[]).find((u) => u.username === "demo-dpj-a")!;
  await admin.post(`/users/${dpj.id}/mfa/reset`, undefined, 204);

  await signIn(page, "demo-dpj-a", /\/second-factor$/);
  await page.getByLabel("Votre mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Obtenir une clé" }).click();
  const secret = ((await page.locator("code.secret").first().textContent()) ?? "").trim();
  await page.getByLabel("Premier code affiché par l’application").fill(totp(secret));
  await page.getByRole("button", { name: "Confirmer" }).click();
  await page.getByRole("button", { name: "Continuer" }).click();

  await expect(page).toHaveURL(/\/dpj$/);
  await expect(page.getByRole("heading", { level: 1, name: "Dossiers à signaler à la DPJ" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Navigation principale" }).getByRole("link", { name: "Signalements DPJ" })).toBeVisible();
  await expectAccessible(page, "DPJ list");
  await row(page, "Dossiers qui demandent un signalement à la DPJ", reference)
    .getByRole("link", { name: `Ouvrir le dossier ${reference}` })
    .click();
  const panel = page.getByRole("region", { name: "Signalement à la DPJ" });
  await expect(panel.getByText("Aucun signalement inscrit pour l’instant.")).toBeVisible();
  await expect(page.getByRole("link", { name: "Remplir la grille d’évaluation" })).toHaveCount(0);
  await expectAccessible(page, "case page (DPJ reporter)");
  await panel.getByLabel("Date et heure du signalement").fill("2026-11-20T13:00");
  await panel.getByLabel("Région de la DPJ").fill("Laurentides");
  await panel.getByLabel("Numéro de référence de la DPJ").fill("DPJ-2026-11873");
  await panel.getByLabel("Signalement retenu").selectOption("yes");
  await panel.getByRole("button", { name: "Inscrire le signalement" }).click();
  await expect(panel.locator(".reports li")).toContainText("Laurentides, référence DPJ-2026-11873");
  await expectAccessible(page, "case page (DPJ report recorded)");
});
