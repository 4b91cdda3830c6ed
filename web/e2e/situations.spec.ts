// The kit's three situations (tests/test_protocol_scenarios.py), driven
// through the UI only, each by the roles involved: school staff, the school
// lead, police A (and B, who never see the case), the DPJ reporter and the
// auditor. The only set-up through the API is the DPJ reporter's second factor,
// reset by the administrator so that this test enrols its own.
import { type APIRequestContext, expect, type Locator, type Page, test } from "@playwright/test";
import { PASSWORD, expectAccessible, expectNothingStored, signIn, totp } from "./helpers";

// Many sign-ins and a few dozen steps each, on a shared machine.
test.describe.configure({ timeout: 180_000 });

/** A `datetime-local` value an hour ago, in the browser's (and this process's) time zone. */
function anHourAgo(): string {
  const at = new Date(Date.now() - 3600_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

type Opened = { reference: string; url: string; id: string };

async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Fermer la session" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
}

/** Staff open a case from the list, with its own summary (the specs share one service). */
async function openCase(page: Page, summary: string): Promise<Opened> {
  await page.getByRole("link", { name: "Ouvrir un dossier" }).click();
  await page.getByLabel("Qui a signalé la situation").selectOption("student");
  await page.getByLabel("Résumé factuel, sans aucun nom").fill(summary);
  await page.getByRole("button", { name: "Ouvrir le dossier" }).click();
  const title = page.getByRole("heading", { level: 1, name: /^Dossier SX-/ });
  await expect(title).toBeVisible();
  await expect(page.getByRole("img", { name: /Étape actuelle : Signalé/ })).toBeVisible();
  const reference = ((await title.textContent()) ?? "").replace(/^Dossier /, "");
  const url = page.url();
  return { reference, url, id: url.split("/cases/")[1] };
}

/** A person involved, shown as P1, P2... with the name on the case page. */
async function addPerson(page: Page, role: string, name: string): Promise<void> {
  const people = page.getByRole("region", { name: "Personnes concernées" });
  const form = people.getByLabel("Rôle dans la situation");
  if (!(await form.isVisible())) await people.getByText("Inscrire une personne concernée").click();
  await form.selectOption(role);
  await people.getByLabel("Nom (visible seulement au dossier)").fill(name);
  await people.getByRole("button", { name: "Inscrire", exact: true }).click();
  await expect(people.locator(".people li").filter({ hasText: name })).toBeVisible();
}

async function take(page: Page, action: string, status: string): Promise<void> {
  await page.getByRole("button", { name: action }).click();
  await expect(page.getByRole("img", { name: new RegExp(`Étape actuelle : ${status}`) })).toBeVisible();
}

type Interview = { content: string; ages: string; intentions?: string[] };

/** The grid completed with one person (by the form's field names), then submitted.
 * Leaves the page on the grid, its answer shown (a status or a refusal). */
async function fillGrid(page: Page, opened: Opened, label: string, answers: Interview): Promise<void> {
  await page.goto(opened.url);
  await page.getByRole("link", { name: "Remplir la grille d’évaluation" }).click();
  const form = page.locator("form.grid");
  await expect(form.getByRole("group", { name: "Amorce" })).toBeVisible();
  await expect(page.locator('input[type="file"]')).toHaveCount(0);
  await form.getByLabel("Personne rencontrée").selectOption({ label });
  const choose = (name: string, value: string) => form.locator(`select[name="${name}"]`).selectOption(value);
  await choose("trigger.disclosed_by", "recipient_or_witness");
  await form.locator('input[name="trigger.disclosed_at"]').fill(anHourAgo());
  await choose("trigger.place", "school");
  await choose("nature.media_kind", "photo");
  await choose("nature.content_described", answers.content);
  await choose("nature.production", "self_produced");
  await form.locator('input[name="nature.depicted_ages"]').fill(answers.ages);
  for (const intention of answers.intentions ?? ["impulsive_forwarding"]) {
    await form.locator(`input[name="intentions.intentions"][value="${intention}"]`).check();
  }
  await choose("extent.recipients", "six_to_twenty");
  for (const platform of ["snapchat", "group_chat"]) {
    await form.locator(`input[name="extent.platforms"][value="${platform}"]`).check();
  }
  await choose("extent.still_circulating", "unknown");
  for (const concern of [
    "self_harm_risk",
    "threats_or_extortion",
    "sexual_assault_alleged",
    "child_under_12_involved",
    "repeat_incident",
    "family_safety_concern",
  ]) {
    await choose(`wellbeing.${concern}`, "no");
  }
  await page.getByRole("button", { name: "Soumettre la grille" }).click();
}

/** The grid's answer: submitted, with the flags it raised (none: "Aucun"). */
async function expectGridSubmitted(page: Page, flags: string[]): Promise<Locator> {
  const done = page.getByRole("status").filter({ hasText: "Grille soumise" });
  await expect(done).toBeVisible();
  for (const flag of flags) await expect(done.locator("ul.flags li").filter({ hasText: flag })).toBeVisible();
  if (flags.length > 0) await expect(done.locator("ul.flags li")).toHaveCount(flags.length);
  return done;
}

/** A minor's parents told, by phone, through the contacts section. */
async function notifyParents(page: Page, label: string): Promise<void> {
  const contacts = page.getByRole("region", { name: "Contacts" });
  const kind = contacts.getByLabel("Type de contact");
  if (!(await kind.isVisible())) await contacts.getByText("Inscrire un contact").click();
  await kind.selectOption("parent_notification");
  await contacts.getByLabel("Élève concerné·e").selectOption({ label });
  await contacts.getByLabel("Parent joint").selectOption("mother");
  await contacts.getByLabel("Moyen").selectOption("phone");
  await contacts.getByLabel("Quand").fill(anHourAgo());
  await contacts.getByRole("button", { name: "Inscrire le contact" }).click();
  await expect(contacts.locator("ul.contacts li").filter({ hasText: `Parents avisés — ${label.split(" ")[0]}` })).toBeVisible();
  await expect(contacts.getByRole("alert")).toHaveCount(0);
}

/** A device confiscated from its owner: switched off, never looked at. */
async function confiscate(page: Page, owner: string): Promise<Locator> {
  const devices = page.getByRole("region", { name: "Appareils confisqués" });
  await devices.getByText("Inscrire un appareil confisqué").click();
  await expect(page.locator('input[type="file"]')).toHaveCount(0);
  await devices.getByLabel("Type d’appareil").selectOption("phone");
  await devices.getByLabel("Description (couleur, étui… sans contenu de l’appareil)").fill("Téléphone noir");
  await devices.getByLabel("Propriétaire").selectOption({ label: owner });
  await devices.getByLabel("L’élève a éteint l’appareil").check();
  await devices.getByLabel("Personne n’a regardé le contenu de l’appareil").check();
  await devices.getByRole("button", { name: "Inscrire l’appareil" }).click();
  const chain = devices.getByRole("list", { name: "Chaîne de possession de D1" });
  await expect(chain.getByRole("listitem").first()).toContainText("Confisqué");
  await expect(devices.getByText("sous la garde de l’école", { exact: true })).toBeVisible();
  return chain;
}

/** A transition the page shows refused, with its rules in words. */
function refused(page: Page, action: string): Locator {
  return page.locator(".actions li.refused").filter({ hasText: action });
}

function row(page: Page, caption: string, reference: string): Locator {
  return page.getByRole("table", { name: caption }).getByRole("row").filter({ hasText: reference });
}

/** The administrator resets the DPJ reporter's second factor (an earlier spec may have enrolled one). */
async function resetDpjSecondFactor(request: APIRequestContext): Promise<void> {
  const token = await request.post("/api/v1/auth/token", {
    form: { grant_type: "password", username: "demo-admin", password: PASSWORD },
  });
  expect(token.status()).toBe(200);
  const headers = { Authorization: `Bearer ${(await token.json()).access_token}` };
  const users = await request.get("/api/v1/users?role=dpj_reporter&limit=100", { headers });
  expect(users.status()).toBe(200);
  const dpj = ((await users.json()).items as { id: string; username: string }[]).find((u) => u.username === "demo-dpj-a")!;
  expect((await request.post(`/api/v1/users/${dpj.id}/mfa/reset`, { headers })).status()).toBe(204);
}

test("1. a swimsuit photo is resolved at school without police", async ({ page }) => {
  test.setTimeout(180_000);
  const summary = "Situation 1 : une photo d’une élève en maillot de bain circulerait entre élèves.";
  await signIn(page, "demo-staff-a");
  const opened = await openCase(page, summary);
  await addPerson(page, "reporter", "Témoin A");
  await addPerson(page, "depicted", "Élève B");
  await addPerson(page, "distributor", "Élève C");
  await expectAccessible(page, "situation 1: three people recorded");

  await take(page, "Commencer l’évaluation", "En évaluation");
  await fillGrid(page, opened, "P1", { content: "semi_nude_or_suggestive", ages: "14" });
  await expectGridSubmitted(page, ["Aucun"]);
  await expectAccessible(page, "situation 1: the reporter's grid submitted");
  await page.goto(opened.url);
  await take(page, "Passer à la collecte d’information", "Collecte d’information");
  for (const label of ["P2", "P3"]) {
    await fillGrid(page, opened, label, { content: "semi_nude_or_suggestive", ages: "14" });
    await expectGridSubmitted(page, ["Aucun"]);
  }
  await page.goto(opened.url);
  await expect(page.getByRole("region", { name: "Indicateurs" }).getByText("Aucun", { exact: true })).toBeVisible();
  for (const label of ["P1 — Témoin A", "P2 — Élève B", "P3 — Élève C"]) await notifyParents(page, label);
  // Every next step done; none asks for the police.
  const checklist = page.locator("ol.checklist");
  await expect(checklist.locator("li.done").first()).toBeVisible();
  await expect(checklist.locator("li.todo")).toHaveCount(0);
  await expect(checklist).not.toContainText("police");
  await expectAccessible(page, "situation 1: every step done");
  await take(page, "Résoudre", "Résolu");
  await expect(page.getByRole("region", { name: "Remise à la police" })).toContainText("n’a pas été remis");
  // Closing is the lead's.
  await expect(refused(page, "Fermer le dossier")).toBeVisible();
  await expectAccessible(page, "situation 1: resolved (staff)");
  await signOut(page);

  await signIn(page, "demo-lead-a");
  await page.getByRole("link", { name: `Ouvrir le dossier ${opened.reference}` }).click();
  await take(page, "Fermer le dossier", "Fermé");
  await expectAccessible(page, "situation 1: closed (lead)");
  await signOut(page);

  // Police A never had the case: its address shows the refusal, not a blank page.
  await signIn(page, "demo-police-a", /\/police$/);
  await expect(page.getByText(opened.reference)).toHaveCount(0);
  await page.goto(opened.url);
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByRole("alert")).not.toBeEmpty();
  await expect(page.getByText(opened.reference)).toHaveCount(0);
  await expect(page.getByText("maillot de bain")).toHaveCount(0);
  await expectAccessible(page, "situation 1: refused (police A)");
});

test("2. a nude photo of a 15-year-old goes to police and the DPJ", async ({ page, request }) => {
  test.setTimeout(180_000);
  const summary = "Situation 2 : une photo nue d’une élève de 15 ans partagée dans une conversation de groupe.";
  await signIn(page, "demo-staff-a");
  const opened = await openCase(page, summary);
  await addPerson(page, "reporter", "Témoin D");
  await addPerson(page, "depicted", "Élève E");
  await addPerson(page, "distributor", "Élève F");
  await take(page, "Commencer l’évaluation", "En évaluation");

  // The reporter's grid raises the suspicion of child sexual abuse material.
  await fillGrid(page, opened, "P1", { content: "nudity_or_breasts", ages: "15" });
  await expectGridSubmitted(page, ["Pornographie juvénile soupçonnée"]);
  await expectAccessible(page, "situation 2: the grid raised csam_suspected");
  await page.goto(opened.url);
  await expect(page.getByRole("region", { name: "Indicateurs" }).locator("ul.flags li")).toHaveText([
    "Pornographie juvénile soupçonnée",
  ]);
  await expect(page.locator("ol.checklist li.todo").first()).toBeVisible();

  // The phone: switched off, confiscated, never viewed; stored under seal.
  const chain = await confiscate(page, "P3 — Élève F");
  const devices = page.getByRole("region", { name: "Appareils confisqués" });
  await devices.getByText("Inscrire l’étape suivante pour D1").click();
  await devices.getByLabel("Étape", { exact: true }).selectOption("stored");
  await devices.getByLabel("Numéro de scellé", { exact: true }).fill("SC-0001");
  await devices.getByLabel("Lieu d’entreposage", { exact: true }).fill("Coffre");
  await devices.getByRole("button", { name: "Inscrire l’étape" }).click();
  await expect(chain.getByRole("listitem")).toHaveCount(2);
  await expect(chain.getByRole("listitem").nth(1)).toContainText("Entreposé");
  await expect(chain.getByRole("listitem").nth(1)).toContainText("SC-0001");
  await expectAccessible(page, "situation 2: the device stored under seal");

  // The hand-off (staff may make it).
  await page.getByLabel("Policier ou policière joint·e (nom)").fill("Agente Paquette");
  await take(page, "Remettre le dossier à la police", "Remis à la police");
  await expect(page.getByRole("region", { name: "Remise à la police" })).toContainText("Agente Paquette");
  await expectAccessible(page, "situation 2: handed off (staff)");

  // The school stops investigating: a grid is refused, in words; a note is still taken.
  await fillGrid(page, opened, "P2", { content: "nudity_or_breasts", ages: "15" });
  await expect(page.getByRole("alert")).toContainText("l'école ne poursuit plus l'enquête");
  await expect(page.getByRole("status")).toHaveCount(0);
  await expectAccessible(page, "situation 2: a grid refused after the hand-off");
  await page.goto(opened.url);
  const notes = page.getByRole("region", { name: "Notes (chronologie)" });
  await notes.getByText("Ajouter une note").click();
  await notes.getByLabel("Note", { exact: true }).fill("Suivi psychosocial offert.");
  await notes.getByRole("button", { name: "Ajouter la note" }).click();
  await expect(notes.locator("ol.notes li")).toHaveCount(1);
  await expect(notes.locator("ol.notes li").first()).toContainText("Suivi psychosocial offert.");
  await expectNothingStored(page);
  await signOut(page);

  // Police A: the case in their list; they take it over with their file number.
  await signIn(page, "demo-police-a", /\/police$/);
  const listed = row(page, "Dossiers remis à votre service", opened.reference);
  await expect(listed).toContainText("À confirmer");
  await listed.getByRole("link", { name: `Ouvrir le dossier ${opened.reference}` }).click();
  const panel = page.getByRole("region", { name: "Prise en charge policière" });
  await expect(panel).toBeVisible();
  await expect(page.getByRole("link", { name: "Remplir la grille d’évaluation" })).toHaveCount(0);
  await page.getByLabel("Numéro du dossier policier (s’il est déjà ouvert)").fill("SPVR-26-0042");
  await page.getByRole("button", { name: "Confirmer la prise en charge" }).click();
  await expect(panel.getByRole("status")).toContainText("SPVR-26-0042");
  await expectAccessible(page, "situation 2: acknowledged (police A)");
  await signOut(page);

  // Police B: neither in their list nor at its address.
  await signIn(page, "demo-police-b", /\/police$/);
  await expect(page.getByRole("heading", { level: 1, name: "Dossiers remis à votre service" })).toBeVisible();
  await expect(page.getByText(opened.reference)).toHaveCount(0);
  await page.goto(opened.url);
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByText(opened.reference)).toHaveCount(0);
  await expect(page.getByText("SPVR-26-0042")).toHaveCount(0);
  await expectAccessible(page, "situation 2: refused (police B)");
  await signOut(page);

  // The DPJ reporter (a second factor of their own) records the report.
  await resetDpjSecondFactor(request);
  await signIn(page, "demo-dpj-a", /\/second-factor$/);
  await page.getByLabel("Votre mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Obtenir une clé" }).click();
  const secret = ((await page.locator("code.secret").first().textContent()) ?? "").trim();
  await page.getByLabel("Premier code affiché par l’application").fill(totp(secret));
  await page.getByRole("button", { name: "Confirmer" }).click();
  await page.getByRole("button", { name: "Continuer" }).click();
  await expect(page).toHaveURL(/\/dpj$/);
  await row(page, "Dossiers qui demandent un signalement à la DPJ", opened.reference)
    .getByRole("link", { name: `Ouvrir le dossier ${opened.reference}` })
    .click();
  const dpj = page.getByRole("region", { name: "Signalement à la DPJ" });
  await expect(dpj.getByText("Aucun signalement inscrit pour l’instant.")).toBeVisible();
  await expect(page.getByRole("link", { name: "Remplir la grille d’évaluation" })).toHaveCount(0);
  await dpj.getByLabel("Date et heure du signalement").fill(anHourAgo());
  await dpj.getByLabel("Région de la DPJ").fill("Laurentides");
  await dpj.getByLabel("Numéro de référence de la DPJ").fill("DPJ-26-1234");
  await dpj.getByLabel("Signalement retenu").selectOption("yes");
  await dpj.getByRole("button", { name: "Inscrire le signalement" }).click();
  await expect(dpj.locator(".reports li")).toContainText("Laurentides, référence DPJ-26-1234");
  await expectAccessible(page, "situation 2: the DPJ report recorded");
  await signOut(page);

  // The lead: closing is refused, with the rules in words; the device goes to police.
  await signIn(page, "demo-lead-a");
  await page.getByRole("link", { name: `Ouvrir le dossier ${opened.reference}` }).click();
  const close = refused(page, "Fermer le dossier");
  await expect(close).toContainText("n'ont pas été avisés");
  await expect(close).toContainText("sous la garde de l'école");
  await expect(page.getByRole("button", { name: "Fermer le dossier" })).toHaveCount(0);
  await expectAccessible(page, "situation 2: closing refused (lead)");
  await devices.getByText("Inscrire l’étape suivante pour D1").click();
  await devices.getByLabel("Étape", { exact: true }).selectOption("transferred_to_police");
  await devices.getByLabel("Policier ou policière qui prend l’appareil (nom)").fill("Agente Paquette");
  await devices.getByLabel("Matricule").fill("4521");
  await devices.getByRole("button", { name: "Inscrire l’étape" }).click();
  await expect(chain.getByRole("listitem")).toHaveCount(3);
  await expect(chain.getByRole("listitem").nth(2)).toContainText("Remis à la police");
  await expect(devices.getByText("hors de la garde de l’école")).toBeVisible();
  // The school returns nothing: only police may (the form no longer offers it).
  await expect(devices.getByText("Inscrire l’étape suivante pour D1")).toHaveCount(0);
  await expect(close).not.toContainText("sous la garde de l'école");
  await expect(close).toContainText("n'ont pas été avisés");
  await signOut(page);

  // Police A return the phone to its owner.
  await signIn(page, "demo-police-a", /\/police$/);
  await page.goto(opened.url);
  const policeDevices = page.getByRole("region", { name: "Appareils confisqués" });
  await expect(policeDevices.getByText("Garde actuelle")).toContainText("Remis à la police");
  await policeDevices.getByLabel("Étape", { exact: true }).selectOption("returned_to_owner");
  await policeDevices.getByRole("button", { name: "Inscrire l’étape", exact: true }).click();
  await expect(policeDevices.getByText("Garde actuelle")).toContainText("Rendu à son propriétaire");
  await expect(policeDevices.getByText("Chaîne de garde terminée.")).toBeVisible();
  await expectAccessible(page, "situation 2: the device returned (police A)");
  await signOut(page);

  // The lead: the parents of each minor told; the case closes; reopening is refused in words.
  await signIn(page, "demo-lead-a");
  await page.getByRole("link", { name: `Ouvrir le dossier ${opened.reference}` }).click();
  for (const label of ["P1 — Témoin D", "P2 — Élève E", "P3 — Élève F"]) await notifyParents(page, label);
  await take(page, "Fermer le dossier", "Fermé");
  await expect(refused(page, "Rouvrir le dossier")).toContainText("ne peut pas être rouvert par l'école");
  await expect(page.getByRole("button", { name: "Rouvrir le dossier" })).toHaveCount(0);
  await expectAccessible(page, "situation 2: closed, never reopened (lead)");
  await signOut(page);

  // The auditor: the case's access log (ids, roles, actions; no names, no summary), and the chain verified.
  await signIn(page, "demo-auditor", /\/audit$/);
  await page.getByLabel("Identifiant du dossier").fill(opened.id);
  await page.getByRole("button", { name: "Afficher le journal d’accès" }).click();
  await expect(page).toHaveURL(new RegExp(`/audit/cases/${opened.id}$`));
  await expect(page.getByRole("heading", { level: 1, name: "Journal d’accès du dossier" })).toBeVisible();
  const log = page.locator("table.events tbody tr");
  await expect(log.filter({ hasText: "open_case" })).toHaveCount(1);
  await expect(log.filter({ hasText: "take_transition" }).first()).toBeVisible();
  await expectAccessible(page, "situation 2: the case's access log (auditor)");
  // Page after page (oldest first): every role that worked the case, and never a name nor the summary.
  const roles = ["Intervenant·e scolaire", "Direction d’école", "Agent·e de liaison policière", "Signalement DPJ"];
  const seen = new Set<string>();
  for (let pages = 0; pages < 40; pages++) {
    await expect(log.first()).toBeVisible();
    const text = (await page.locator("table.events tbody").textContent()) ?? "";
    for (const role of roles) if (text.includes(role)) seen.add(role);
    for (const secret of ["Témoin D", "Élève E", "Élève F", "photo nue", "Agente Paquette", "DPJ-26-1234", opened.reference]) {
      expect(text, "the access log shows ids, roles and actions only").not.toContain(secret);
    }
    const next = page.getByRole("button", { name: "Entrées suivantes" });
    if (seen.size === roles.length || !(await next.isVisible())) break;
    const first = (await log.first().textContent()) ?? "";
    await next.click();
    await expect(log.first()).not.toHaveText(first);
  }
  expect([...seen].sort()).toEqual([...roles].sort());
  await page.getByRole("link", { name: "Retour au journal d’audit" }).click();
  await page.getByRole("button", { name: "Signer un point de contrôle maintenant" }).click();
  await expect(page.getByText(/points? de contrôle signés?\./)).toBeVisible();
  await page.getByRole("button", { name: "Vérifier", exact: true }).click();
  await expect(page.getByText("Journal intact.")).toBeVisible();
  await expect(page.locator(".verdict li.broken")).toHaveCount(0);
  await expectAccessible(page, "situation 2: the log verified (auditor)");
});

test("3. revenge distribution requires police", async ({ page }) => {
  test.setTimeout(180_000);
  const summary = "Situation 3 : un élève aurait rediffusé la photo d’une ex-partenaire pour se venger.";
  await signIn(page, "demo-staff-a");
  const opened = await openCase(page, summary);
  await addPerson(page, "reporter", "Élève G");
  await addPerson(page, "distributor", "Élève H");
  await take(page, "Commencer l’évaluation", "En évaluation");

  // The victim's grid: the revenge raises malicious intent.
  await fillGrid(page, opened, "P1", {
    content: "semi_nude_or_suggestive",
    ages: "16",
    intentions: ["malicious_revenge_humiliation"],
  });
  await expectGridSubmitted(page, ["Intention malveillante"]);
  await page.goto(opened.url);
  await expect(page.getByRole("region", { name: "Indicateurs" }).locator("ul.flags li")).toHaveText(["Intention malveillante"]);

  // The distributor flagged malicious, with the reason.
  const people = page.getByRole("region", { name: "Personnes concernées" });
  await people.getByText("Décision sur une personne").click();
  await people.getByLabel("Personne", { exact: true }).selectOption({ label: "P2 — Élève H" });
  await people.getByLabel("Décision", { exact: true }).selectOption("malicious_intent");
  await people.getByLabel("Raison (en mots, sans décrire l’image)").fill("Diffusion pour se venger après la rupture.");
  await people.getByRole("button", { name: "Inscrire la décision" }).click();
  const flagsOfP2 = people.getByRole("list", { name: "Décisions sur P2" });
  await expect(flagsOfP2).toContainText("Intention malveillante soupçonnée");
  await expect(flagsOfP2).toContainText("Diffusion pour se venger après la rupture.");
  await expect(people.getByRole("alert")).toHaveCount(0);
  await expectAccessible(page, "situation 3: a person flagged malicious");

  // Their grid is refused: the rule in words, naming P2, not the name.
  await fillGrid(page, opened, "P2", { content: "semi_nude_or_suggestive", ages: "16" });
  const refusal = page.getByRole("alert");
  await expect(refusal).toContainText("Une intention malveillante est soupçonnée chez P2");
  await expect(refusal).not.toContainText("Élève H");
  await expect(page.getByRole("status")).toHaveCount(0);
  await expectAccessible(page, "situation 3: the flagged person's grid refused");

  // Their device confiscated; the checklist says so.
  await page.goto(opened.url);
  await confiscate(page, "P2 — Élève H");
  const checklist = page.locator("ol.checklist");
  await expect(checklist.locator("li.done").filter({ hasText: "Intention malveillante soupçonnée chez P2" })).toBeVisible();
  await expect(checklist.locator("li.todo").filter({ hasText: "Contacter le policier ou la policière de l'école" })).toBeVisible();
  await take(page, "Passer à la collecte d’information", "Collecte d’information");

  // Resolving at school is refused, with the rule; the hand-off is open, and made.
  await expect(refused(page, "Résoudre")).toContainText("ne peut pas être réglé à l'école");
  await expect(page.getByRole("button", { name: "Résoudre" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Remettre le dossier à la police" })).toBeEnabled();
  await expectAccessible(page, "situation 3: resolve refused, hand-off open");
  await page.getByLabel("Policier ou policière joint·e (nom)").fill("Agent Roy");
  await take(page, "Remettre le dossier à la police", "Remis à la police");
  await expect(page.getByRole("region", { name: "Remise à la police" })).toContainText("Agent Roy");
  await expect(checklist.locator("li.done").filter({ hasText: "Contacter le policier ou la policière de l'école" })).toBeVisible();
  // Handed off, the school takes no new findings: no flag on a person is offered any more.
  await expect(people.getByText("Décision sur une personne")).toHaveCount(0);
  await expect(flagsOfP2).toContainText("Intention malveillante soupçonnée");
  await expectAccessible(page, "situation 3: handed off");
});
