import { expect, test } from "@playwright/test";
import { PASSWORD, expectAccessible, expectNothingStored, signIn, totp } from "./helpers";

test("sign-in: a refusal in the person's language, the toggle, axe", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByRole("heading", { level: 1, name: "Ouvrir une session" })).toBeVisible();
  await expectAccessible(page, "sign-in (fr)");
  await page.getByLabel("Nom d’utilisateur").fill("demo-staff-a");
  await page.getByLabel("Mot de passe").fill("not-the-password");
  await page.getByRole("button", { name: "Ouvrir la session" }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toBeVisible();
  const frenchDetail = (await alert.textContent()) ?? "";
  expect(frenchDetail.length).toBeGreaterThan(10);

  await page.getByRole("button", { name: "Switch to English" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await page.getByLabel("Password").fill("still-not-the-password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  const englishDetail = (await page.getByRole("alert").textContent()) ?? "";
  expect(englishDetail).not.toEqual(frenchDetail);
  await expectAccessible(page, "sign-in refused (en)");
  // The choice holds across a reload, and is all the browser keeps.
  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await expectNothingStored(page);
  await page.getByRole("button", { name: "Passer au français" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Ouvrir une session" })).toBeVisible();
});

test("staff open a case and read it; the lead finds it in the list; police B never sees it", async ({ page, context }) => {
  await signIn(page, "demo-staff-a");
  await expect(page).toHaveURL(/\/cases$/);
  await expect(page.getByRole("heading", { level: 1, name: "Dossiers" })).toBeVisible();
  await expectAccessible(page, "case list (staff)");
  // The session cookie is out of JavaScript's reach; nothing kept in storage.
  const cookies = await context.cookies();
  expect(cookies.find((c) => c.name === "sexto_session")?.httpOnly).toBe(true);
  expect(await page.evaluate(() => document.cookie)).toBe("");

  await page.getByRole("link", { name: "Ouvrir un dossier" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Ouvrir un dossier" })).toBeVisible();
  await expect(page.getByText("n’accepte jamais d’image")).toBeVisible();
  await expectAccessible(page, "open a case");
  await page.getByLabel("Qui a signalé la situation").selectOption("student");
  await page.getByLabel("Où elle s’est produite").selectOption("online_only");
  await page.getByLabel("Résumé factuel, sans aucun nom").fill("Une photo circulerait dans une conversation de groupe.");
  await page.getByRole("button", { name: "Ouvrir le dossier" }).click();

  const title = page.getByRole("heading", { level: 1, name: /^Dossier / });
  await expect(title).toBeVisible();
  const reference = ((await title.textContent()) ?? "").replace(/^Dossier /, "");
  await expect(page.getByRole("img", { name: /Étape actuelle : Signalé/ })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Prochaines étapes" })).toBeVisible();
  await expect(page.locator(".checklist li").first()).toBeVisible();
  await expect(page.locator(".actions li").first()).toBeVisible();
  await expectAccessible(page, "case page (staff)");
  await expectNothingStored(page);
  const caseUrl = page.url();
  // An action that is open now is taken from the page; the picture follows.
  await page.getByRole("button", { name: "Commencer l’évaluation" }).click();
  await expect(page.getByRole("img", { name: /Étape actuelle : En évaluation/ })).toBeVisible();
  await expect(page.getByRole("button", { name: "Commencer l’évaluation" })).toHaveCount(0);

  await page.getByRole("button", { name: "Fermer la session" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto("/cases");
  await expect(page).toHaveURL(/\/sign-in$/);

  await signIn(page, "demo-lead-a");
  await expect(page.getByRole("link", { name: `Ouvrir le dossier ${reference}` })).toBeVisible();
  // What the case waits for, as the API says it, in the person's language.
  const waiting = page.getByRole("row", { name: new RegExp(reference) }).locator("ul.waiting");
  await expect(waiting.locator("li").first()).toBeVisible();
  const frenchWaiting = (await waiting.textContent()) ?? "";
  await page.getByRole("button", { name: "Switch to English" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Cases" })).toBeVisible();
  await expect(waiting).not.toHaveText(frenchWaiting);
  await page.getByRole("button", { name: "Passer au français" }).click();
  await expect(waiting).toHaveText(frenchWaiting);
  await page.getByLabel("Statut").selectOption("evaluating");
  await page.getByRole("button", { name: "Filtrer" }).click();
  await expect(page).toHaveURL(/status=evaluating/);
  await expect(page.getByRole("link", { name: `Ouvrir le dossier ${reference}` })).toBeVisible();
  await page.getByLabel("Statut").selectOption("closed");
  await page.getByRole("button", { name: "Filtrer" }).click();
  await expect(page.getByText("Aucun dossier.")).toBeVisible();
  await expectAccessible(page, "case list filtered (lead)");
  await page.getByRole("button", { name: "Fermer la session" }).click();

  await signIn(page, "demo-police-b", /\/police$/);
  await expect(page.getByRole("heading", { level: 1, name: "Dossiers" })).toBeVisible();
  await expect(page.getByText(reference)).toHaveCount(0);
  await page.goto(caseUrl);
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByText(reference)).toHaveCount(0);
  await expectAccessible(page, "case refused (police B)");
});

test("a refused single sign-on comes back to the sign-in page, which says so in words", async ({ page }) => {
  // The API sends a refused browser to `/?sso_error=...` and tells it nothing more.
  await page.goto("/?sso_error=sso_refused");
  await expect(page).toHaveURL(/\/sign-in\?sso_error=sso_refused$/);
  await expect(page.getByRole("alert")).toContainText("n’a pas été acceptée");
  await expectAccessible(page, "sign-in after a refused single sign-on");
  // Nothing but the two codes the API sends is shown.
  await page.goto("/sign-in?sso_error=%3Cb%3Ehello");
  await expect(page.getByRole("alert")).toHaveCount(0);
  // No provider is registered in the demo data: the page says so.
  await expect(page.getByText("Aucun fournisseur d’identité n’est configuré pour ce service.")).toBeVisible();
});

test("explorer-only staff are refused, in words", async ({ page }) => {
  await signIn(page, "demo-staff-a2");
  await expect(page).toHaveURL(/\/cases$/);
  await page.goto("/cases/new");
  await page.getByLabel("Résumé factuel, sans aucun nom").fill("Un signalement.");
  await page.getByRole("button", { name: "Ouvrir le dossier" }).click();
  await expect(page.getByRole("alert")).toContainText(/architecte|Architecte/);
  await expectAccessible(page, "open a case refused (explorer)");
});

test("school B is refused for its missing agreement, in words", async ({ page }) => {
  await signIn(page, "demo-staff-b");
  await page.goto("/cases/new");
  await page.getByLabel("Résumé factuel, sans aucun nom").fill("Un signalement.");
  await page.getByRole("button", { name: "Ouvrir le dossier" }).click();
  await expect(page.getByRole("alert")).toContainText(/entente/i);
});

test("a role that requires a second factor enrols one, then signs in with it", async ({ page }) => {
  await signIn(page, "demo-dpj-a", /\/second-factor$/);
  await expectAccessible(page, "second factor (start)");
  // The password is asked for again before a factor is added.
  await page.getByLabel("Votre mot de passe").fill("not the password");
  await page.getByRole("button", { name: "Obtenir une clé" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await page.getByLabel("Votre mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Obtenir une clé" }).click();
  const secret = ((await page.locator("code.secret").first().textContent()) ?? "").trim();
  expect(secret).toMatch(/^[A-Z2-7]+=*$/);
  await page.getByLabel("Premier code affiché par l’application").fill(totp(secret));
  await page.getByRole("button", { name: "Confirmer" }).click();
  await expect(page.getByRole("heading", { name: "Codes de récupération" })).toBeVisible();
  const codes = await page.locator(".codes code").allTextContents();
  expect(codes).toHaveLength(10);
  await expectAccessible(page, "recovery codes");
  await page.getByRole("button", { name: "Continuer" }).click();
  await expect(page).toHaveURL(/\/dpj$/);
  await page.getByRole("button", { name: "Fermer la session" }).click();

  // Now the password alone is not enough: the code is asked for.
  await signIn(page, "demo-dpj-a", null);
  await expect(page.getByRole("alert")).toBeVisible();
  await page.getByLabel("Code de l’application d’authentification").fill(codes[0]);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Ouvrir la session" }).click();
  await expect(page).toHaveURL(/\/dpj$/);
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test("the case list and the open-case form fit the screen", async ({ page }) => {
    await signIn(page, "demo-staff-a");
    await expect(page.getByRole("heading", { level: 1, name: "Dossiers" })).toBeVisible();
    await page.getByRole("link", { name: "Ouvrir un dossier" }).click();
    await page.getByLabel("Résumé factuel, sans aucun nom").fill("Une photo circulerait.");
    await page.getByRole("button", { name: "Ouvrir le dossier" }).click();
    await expect(page.getByRole("heading", { level: 1, name: /^Dossier / })).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expectAccessible(page, "case page (phone)");
  });
});

test("staff record a person and complete the grid drawn from the template; the flags follow", async ({ page }) => {
  await signIn(page, "demo-staff-a");
  await page.getByRole("link", { name: "Ouvrir un dossier" }).click();
  await page.getByLabel("Résumé factuel, sans aucun nom").fill("Une photo aurait été transférée.");
  await page.getByRole("button", { name: "Ouvrir le dossier" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /^Dossier / })).toBeVisible();

  await page.getByText("Inscrire une personne concernée").click();
  await page.getByLabel("Rôle dans la situation").selectOption("depicted");
  await page.getByLabel("Nom (visible seulement au dossier)").fill("Élève Démo");
  await page.getByRole("button", { name: "Inscrire", exact: true }).click();
  await expect(page.locator(".people li").first()).toContainText("P1");
  await expect(page.locator(".people li").first()).toContainText("Élève Démo");
  await expectAccessible(page, "case page with a person");

  await page.getByRole("link", { name: "Remplir la grille d’évaluation" }).click();
  await expect(page.getByRole("group", { name: "Amorce" })).toBeVisible();
  await expect(page.locator('input[type="file"]')).toHaveCount(0);
  await expectAccessible(page, "grid (fr)");
  await page.getByRole("button", { name: "Switch to English" }).click();
  await expect(page.getByRole("group", { name: "Trigger" })).toBeVisible();
  await page.getByRole("button", { name: "Passer au français" }).click();

  // Every required choice: its first answer; the required instant: now.
  for (const select of await page.locator("form.grid select[required]").all()) {
    await select.selectOption({ index: 1 });
  }
  for (const input of await page.locator('form.grid input[type="datetime-local"][required]').all()) {
    await input.fill("2026-11-20T10:15");
  }
  for (const group of await page.locator('form.grid fieldset[data-required="true"]').all()) {
    await group.locator('input[type="checkbox"]').first().check();
  }
  await page.getByRole("button", { name: "Soumettre la grille" }).click();
  await expect(page.getByRole("status")).toContainText("Grille soumise");
  await expectAccessible(page, "grid submitted");
});

test("staff hand a case off; police A acknowledge it with their file number; police B never see it", async ({ page }) => {
  await signIn(page, "demo-staff-a");
  await page.getByRole("link", { name: "Ouvrir un dossier" }).click();
  await page.getByLabel("Résumé factuel, sans aucun nom").fill("Un adulte aurait demandé des photos à une élève.");
  await page.getByRole("button", { name: "Ouvrir le dossier" }).click();
  const title = page.getByRole("heading", { level: 1, name: /^Dossier / });
  await expect(title).toBeVisible();
  const reference = ((await title.textContent()) ?? "").replace(/^Dossier /, "");
  const caseUrl = page.url();
  await page.getByLabel("Policier ou policière joint·e (nom)").fill("Agente Tremblay");
  await page.getByRole("button", { name: "Remettre le dossier à la police" }).click();
  await expect(page.getByRole("img", { name: /Étape actuelle : Remis à la police/ })).toBeVisible();
  await page.getByRole("button", { name: "Fermer la session" }).click();

  await signIn(page, "demo-police-a", /\/police$/);
  // The police land on their feed, which lists the case among the changes and among all their cases.
  await page.getByRole("link", { name: `Ouvrir le dossier ${reference}` }).first().click();
  await expect(page.getByRole("heading", { name: "Prise en charge policière" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Remplir la grille d’évaluation" })).toHaveCount(0);
  await expectAccessible(page, "case page (police A)");
  await page.getByLabel("Numéro du dossier policier (s’il est déjà ouvert)").fill("SPVM-2026-0042");
  await page.getByRole("button", { name: "Confirmer la prise en charge" }).click();
  await expect(page.getByRole("status")).toContainText("SPVM-2026-0042");
  await page.getByRole("button", { name: "Fermer la session" }).click();

  await signIn(page, "demo-police-b", /\/police$/);
  await expect(page.getByText(reference)).toHaveCount(0);
  await page.goto(caseUrl);
  await expect(page.getByRole("alert")).toBeVisible();
  await expect(page.getByText("SPVM-2026-0042")).toHaveCount(0);
});
