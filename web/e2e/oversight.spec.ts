// The oversight roles (issue 16): the auditor reads a case's access log,
// searches the audit log and verifies it; the privacy officer sees the
// retention preview, the legal holds, the incident register and the access
// review. Neither ever reads a case's contents.
import { expect, test, type Page } from "@playwright/test";
import { expectAccessible, signIn } from "./helpers";

// Several people sign in one after the other in each test: more than the default 30 s on a busy machine.
test.describe.configure({ timeout: 120_000 });

type Opened = { reference: string; id: string; url: string };

/** Staff A open a case and hand it off to police A; then sign out. */
async function handedOffCase(page: Page, summary: string): Promise<Opened> {
  await signIn(page, "demo-staff-a");
  await page.getByRole("link", { name: "Ouvrir un dossier" }).click();
  await page.getByLabel("Résumé factuel, sans aucun nom").fill(summary);
  await page.getByRole("button", { name: "Ouvrir le dossier" }).click();
  const title = page.getByRole("heading", { level: 1, name: /^Dossier / });
  await expect(title).toBeVisible();
  const reference = ((await title.textContent()) ?? "").replace(/^Dossier /, "");
  const url = page.url();
  await page.getByLabel("Policier ou policière joint·e (nom)").fill("Agente Tremblay");
  await page.getByRole("button", { name: "Remettre le dossier à la police" }).click();
  await expect(page.getByRole("img", { name: /Étape actuelle : Remis à la police/ })).toBeVisible();
  await page.getByRole("button", { name: "Fermer la session" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  return { reference, url, id: url.split("/cases/")[1] };
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Fermer la session" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
}

test("the auditor reads a case's access log, searches the log and verifies the chain", async ({ page }) => {
  const opened = await handedOffCase(page, "Une photo aurait circulé dans un groupe de discussion.");

  await signIn(page, "demo-auditor", /\/audit$/);
  await expect(page.getByRole("heading", { level: 1, name: "Journal d’audit" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Dossiers" })).toHaveCount(0);
  await expectAccessible(page, "audit log (auditor)");

  // A checkpoint signed now, then the chain verified up to its last entry, at that checkpoint.
  await page.getByRole("button", { name: "Signer un point de contrôle maintenant" }).click();
  await expect(page.getByText(/points? de contrôle signés?\./)).toBeVisible();
  await page.getByRole("button", { name: "Vérifier", exact: true }).click();
  await expect(page.getByText("Journal intact.")).toBeVisible();
  await expect(page.locator(".verdict li.verified").first()).toContainText(/vérifiée jusqu’à l’entrée \d+ au point de contrôle du/);
  await expect(page.locator(".verdict li.broken")).toHaveCount(0);
  await page.getByLabel("Étendue").selectOption("full");
  await page.getByRole("button", { name: "Vérifier", exact: true }).click();
  await expect(page.getByText("Chaque entrée a été recalculée.")).toBeVisible();
  await expectAccessible(page, "audit log verified");

  // The search: the transitions about the case.
  await page.getByLabel("Action", { exact: true }).fill("take_transition");
  await page.getByLabel("Dossier (identifiant)").fill(opened.id);
  await page.getByRole("button", { name: "Chercher" }).click();
  const rows = page.locator("table.events tbody tr");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("take_transition");
  await expect(rows.first()).toContainText("Intervenant·e scolaire");
  await expect(page.getByText(opened.reference)).toHaveCount(0);
  await expectAccessible(page, "audit search");

  // The case's access log: its opening, its reads, its hand-off; never its summary.
  await page.getByRole("link", { name: `Journal d’accès du dossier ${opened.id}` }).first().click();
  await expect(page).toHaveURL(new RegExp(`/audit/cases/${opened.id}$`));
  await expect(page.getByRole("heading", { level: 1, name: "Journal d’accès du dossier" })).toBeVisible();
  const log = page.locator("table.events tbody tr");
  await expect(log.filter({ hasText: "open_case" })).toHaveCount(1);
  await expect(log.filter({ hasText: "read_case" }).first()).toBeVisible();
  await expect(page.getByText("Une photo aurait circulé")).toHaveCount(0);
  await expectAccessible(page, "a case's access log");

  // The auditor never reads the case itself.
  await page.goto(opened.url);
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByText("Une photo aurait circulé")).toHaveCount(0);
});

test("the privacy officer sees the retention preview, the holds, the register and the access review", async ({ page }) => {
  const opened = await handedOffCase(page, "Un élève aurait reçu une photo d’un inconnu.");

  // The lead closes the case and keeps it from destruction with a legal hold.
  await signIn(page, "demo-lead-a");
  await page.goto(opened.url);
  await page.getByRole("button", { name: "Fermer le dossier" }).click();
  await expect(page.getByRole("img", { name: /Étape actuelle : Fermé/ })).toBeVisible();
  await page.getByLabel("Raison de la suspension").fill("Enquête policière en cours.");
  await page.getByRole("button", { name: "Suspendre la destruction" }).click();
  await expect(page.locator("ul.holds li")).toContainText("En vigueur");
  await expectAccessible(page, "case page with a legal hold (lead)");
  await signOut(page);

  // A staff member off the case team knocks at it ten times: each refusal is in the log.
  await signIn(page, "demo-staff-a2");
  for (let i = 0; i < 10; i++) {
    const answer = await page.request.get(`/api/v1/cases/${opened.id}`);
    expect(answer.status()).toBe(404);
  }
  await signOut(page);

  await signIn(page, "demo-privacy-a", /\/privacy$/);
  await expect(page.getByRole("heading", { level: 1, name: "Protection des renseignements personnels" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Dossiers" })).toHaveCount(0);
  await expect(page.getByText("Un élève aurait reçu")).toHaveCount(0);

  // The retention dry run: the closed case, kept (its hold, its police part).
  const preview = page.locator("table.retention tbody tr").filter({ hasText: opened.reference });
  await expect(preview).toHaveCount(1);
  await expect(preview).toContainText("Conservé");
  await expect(preview).toContainText("1 suspension");

  // The hold, in force.
  const hold = page.locator("table.holds tbody tr").filter({ hasText: opened.reference });
  await expect(hold).toContainText("En vigueur");
  await expect(hold).toContainText("Direction d’école");
  await expectAccessible(page, "privacy (retention, holds)");

  // The access review: the ten refusals to the staff member off the team, and their entries.
  await page.getByRole("button", { name: "Examiner" }).click();
  // (Other tests on the same service may add their own refusals: the finding holds at least these ten.)
  const finding = page.locator("ul.findings li").filter({ hasText: /\d+ refus/ }).filter({ hasText: "Intervenant·e scolaire" }).first();
  await expect(finding).toBeVisible();
  await finding.getByRole("button", { name: "Afficher les entrées" }).click();
  const entries = finding.locator("table.events tbody tr");
  await expect(entries.first()).toBeVisible();
  expect(await entries.count()).toBeGreaterThanOrEqual(10);
  await expect(entries.filter({ hasText: "Permis" })).toHaveCount(0);
  await expect(finding.getByText(opened.id).first()).toBeVisible();
  await expect(page.getByText("Un élève aurait reçu")).toHaveCount(0);
  await expectAccessible(page, "privacy (access review)");

  // The finding recorded as an incident in the register, with its entries.
  await finding.getByRole("button", { name: "Inscrire un incident à partir de cette constatation" }).click();
  await expect(page.getByText(/Lié à \d+ entrées du journal d’audit\./)).toBeVisible();
  await expect(page.getByLabel("Renseignements personnels en cause")).toBeFocused();
  await page.getByLabel("Renseignements personnels en cause").fill("Aucun renseignement communiqué : tentatives d’accès refusées.");
  await page.getByLabel("Circonstances").fill("Dix tentatives d’accès à un dossier par un membre du personnel hors de l’équipe.");
  // Two days ago: a date that has passed in Quebec whatever the machine's time zone.
  const past = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel("Date de l’incident (ou début)").fill(past);
  await page.getByLabel("Date où l’organisme en a eu connaissance").fill(past);
  await page.getByLabel("Nombre de personnes concernées").fill("1");
  await page.getByLabel("Risque de préjudice").selectOption("low");
  await page.getByRole("button", { name: "Inscrire au registre" }).click();
  const done = page.getByRole("status").filter({ hasText: /Incident INC-\d{4}-\d{4} inscrit au registre\./ });
  await expect(done).toBeVisible();
  const recorded = ((await done.textContent()) ?? "").match(/INC-\d{4}-\d{4}/)![0];
  await expect(page.locator("table.incidents tbody tr").filter({ hasText: recorded })).toContainText("Faible");
  await expectAccessible(page, "privacy (incident recorded)");
  await signOut(page);

  // The lead lifts the hold; the privacy officer sees it lifted.
  await signIn(page, "demo-lead-a");
  await page.goto(opened.url);
  await page.getByLabel("Raison de la levée").fill("Dossier policier fermé.");
  await page.getByRole("button", { name: "Lever la suspension" }).click();
  await expect(page.locator("ul.holds li")).toContainText("Levée par Direction d’école");
  await signOut(page);

  await signIn(page, "demo-privacy-a", /\/privacy$/);
  await page.getByLabel("Afficher").selectOption("false");
  await expect(page.locator("table.holds tbody tr").filter({ hasText: opened.reference })).toContainText(
    "Levée par Direction d’école",
  );
  await expectAccessible(page, "privacy (hold lifted)");
});

test("in English, the auditor's verification says the same", async ({ page }) => {
  await signIn(page, "demo-auditor", /\/audit$/);
  await page.getByRole("button", { name: "Switch to English" }).click();
  await page.getByRole("button", { name: "Verify", exact: true }).click();
  await expect(page.getByText("The log is intact.")).toBeVisible();
  await expect(page.locator(".verdict li.verified").first()).toContainText(/verified up to entry \d+/);
  await expectAccessible(page, "audit log verified (en)");
  await page.getByRole("button", { name: "Passer au français" }).click();
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test("the audit log and the privacy screen fit the screen", async ({ page }) => {
    await signIn(page, "demo-auditor", /\/audit$/);
    await page.getByRole("button", { name: "Vérifier", exact: true }).click();
    await expect(page.getByText("Journal intact.")).toBeVisible();
    await expect(page.locator("table.events tbody tr").first()).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await expectAccessible(page, "audit log (phone)");
    await signOut(page);

    await signIn(page, "demo-privacy-a", /\/privacy$/);
    await page.getByRole("button", { name: "Examiner" }).click();
    await expect(page.getByText(/entrées examinées/)).toBeVisible();
    await page.getByText("Inscrire un incident", { exact: true }).click();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await expectAccessible(page, "privacy (phone)");
  });
});
