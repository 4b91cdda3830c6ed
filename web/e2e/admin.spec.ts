// The admin's screens, the approval of an identity provider by its
// organization, and every person's own account page (sessions, second factor).
import { expect, test } from "@playwright/test";
import { PASSWORD, expectAccessible, signIn, totp } from "./helpers";

const SCHOOL_A = "École secondaire du Ruisseau (démo A)";
const BOARD_A = "Centre de services scolaire des Laurentides-Nord (démo A)";
const FORCE_A = "Service de police de Ville-Ruisseau (démo A)";

test("the admin lands on the administration, whose every screen is accessible", async ({ page }) => {
  await page.goto("/");
  await signIn(page, "demo-admin", /\/admin$/);
  await expect(page.getByRole("heading", { level: 1, name: "Administration" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Navigation principale" }).getByRole("link", { name: "Dossiers" })).toHaveCount(0);
  await expectAccessible(page, "admin home");

  await page.getByRole("link", { name: /^Organisations/ }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Organisations" })).toBeVisible();
  await expect(page.getByRole("rowheader", { name: SCHOOL_A })).toBeVisible();
  await expect(page.getByRole("table", { name: "Services de police" }).getByRole("row", { name: FORCE_A })).toContainText("Oui");
  // A name taken: the API's refusal, in words.
  await page.getByLabel("Nom du centre de services scolaire").fill(BOARD_A);
  await page.getByRole("button", { name: "Ajouter le centre" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expectAccessible(page, "organisations");

  await page.goto("/admin/agreements");
  await expect(page.getByRole("row", { name: /DEMO-DPCP-A/ })).toContainText("Oui");
  await expectAccessible(page, "agreements");

  await page.goto("/admin/service-accounts");
  await page.getByLabel("Nom", { exact: true }).fill("Portail e2e de la police A");
  await page.locator("#service-role").selectOption("police_liaison");
  await page.getByRole("checkbox", { name: FORCE_A }).check();
  await page.getByRole("button", { name: "Créer", exact: true }).click();
  // A police portal reads cases: its secret goes to the approver, not the admin.
  await expect(page.getByText("Ce rôle doit être approuvé")).toBeVisible();
  await expect(page.getByRole("row", { name: /Portail e2e de la police A/ })).toContainText("En attente d’approbation");
  await expectAccessible(page, "service accounts");
});

test("the admin creates a user in school A, changes its role and scope, and disables it", async ({ page }) => {
  await signIn(page, "demo-admin", /\/admin$/);
  await page.getByRole("link", { name: "Utilisateurs" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Utilisateurs" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Ouvrir le compte de Sam Intervenant" })).toBeVisible();
  await expectAccessible(page, "users");

  const form = page.getByRole("form", { name: "Créer un utilisateur" });
  await form.getByLabel("Nom d’utilisateur").fill("e2e.nadia");
  await form.getByLabel("Nom complet").fill("Nadia Essai");
  await form.getByLabel("Courriel à son organisation (facultatif)").fill("nadia.essai@demo-a.example");
  await form.getByLabel("Rôle").selectOption("school_staff");
  await form.getByRole("checkbox", { name: SCHOOL_A }).check();
  await form.getByLabel("Mot de passe provisoire").fill("tulipes violettes sous la pluie de novembre");
  await form.getByRole("button", { name: "Créer" }).click();
  await expect(page.getByRole("status")).toContainText("Compte créé : Nadia Essai.");
  await page.getByRole("status").getByRole("link", { name: "Ouvrir le compte de Nadia Essai" }).click();

  await expect(page.getByRole("heading", { level: 1, name: "Compte de Nadia Essai" })).toBeVisible();
  // Made by an admin: school staff read cases, so the grant waits for board A's approvers.
  await expect(page.getByText("En attente d’approbation", { exact: true })).toBeVisible();
  await expectAccessible(page, "user page");

  const details = page.getByRole("form", { name: "Identité, rôle et portée" });
  await details.getByLabel("Rôle").selectOption("school_lead");
  await details.getByRole("checkbox", { name: SCHOOL_A }).check();
  await details.getByRole("button", { name: "Modifier" }).click();
  await expect(page.getByRole("status")).toHaveText("Enregistré.");
  await expect(page.locator("dl.facts")).toContainText("Direction ou répondant·e");
  await expect(page.locator("dl.facts")).toContainText(SCHOOL_A);

  // The Sexto attestation that lets school staff handle cases.
  const attestations = page.getByRole("form", { name: "Attestations Sexto" });
  await attestations.getByLabel("Niveau").selectOption("architect");
  await attestations.getByLabel("Obtenue le").fill("2025-10-14");
  await attestations.getByLabel("Adresse du badge (https)").fill("https://badges.example.org/sexto/architecte/e2e");
  await attestations.getByRole("button", { name: "Enregistrer l’attestation" }).click();
  await expect(page.getByRole("button", { name: "Retirer l’attestation Architecte" })).toBeVisible();

  await page.getByRole("button", { name: "Fermer toutes ses sessions" }).click();
  await expect(page.getByRole("status")).toHaveText("Toutes ses sessions et tous ses jetons ont pris fin.");
  await page.getByRole("button", { name: "Retirer le second facteur (téléphone perdu)" }).click();
  await expect(page.getByRole("status")).toContainText("Le second facteur a été retiré");

  await page.getByRole("button", { name: "Désactiver le compte" }).click();
  await expect(page.getByRole("button", { name: "Réactiver le compte" })).toBeVisible();
  await expect(page.locator("dl.facts")).toContainText("Ce compte est désactivé.");
  await page.getByRole("link", { name: "Retour aux utilisateurs" }).click();
  await expect(page.getByRole("row", { name: /Nadia Essai/ })).toContainText("Désactivé");
});

test("the admin registers an identity provider; it waits for its board's approvers, one of whom approves it", async ({ page, browser }) => {
  await signIn(page, "demo-admin", /\/admin$/);
  await page.getByRole("link", { name: "Fournisseurs d’identité" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Fournisseurs d’identité" })).toBeVisible();
  // Only the name of the secret's file: the secret never goes through the app.
  await expect(page.locator("input[type=password]")).toHaveCount(0);
  await page.getByLabel("Nom affiché sur la page de connexion").fill("CSS démo A (Entra e2e)");
  await page.getByLabel("Organisation").selectOption({ label: BOARD_A });
  await page.getByLabel("Émetteur (issuer, https)").fill("https://login.example.org/demo-a/v2.0");
  await page.getByLabel("Identifiant client chez le fournisseur").fill("sexto-e2e");
  await page.getByLabel("Nom du fichier qui contient le secret client").fill("demo-a-entra");
  await page.getByLabel("Domaines de courriel admis").fill("demo-a.example");
  await page.getByLabel("Valeurs amr exigées (facultatif, par exemple mfa)").fill("mfa");
  // Registered disabled: approved below, it still shows on no sign-in page of the other tests.
  await page.getByRole("checkbox", { name: "Activé" }).uncheck();
  await page.getByRole("button", { name: "Inscrire un fournisseur" }).click();
  await expect(page.getByRole("status")).toContainText("il attend l’approbation de son organisation");
  await expect(page.getByRole("status")).toContainText("/api/v1/auth/sso/callback");
  const row = page.getByRole("row", { name: /CSS démo A \(Entra e2e\)/ });
  await expect(row).toContainText("En attente d’approbation");
  await expect(row).toContainText(`responsable de la protection des renseignements de ${BOARD_A}`);
  await expectAccessible(page, "identity providers (admin)");

  // Board A's privacy officer finds it waiting, checks what it trusts, and approves it.
  const context = await browser.newContext();
  const approver = await context.newPage();
  await signIn(approver, "demo-privacy-a", null);
  await approver.getByRole("link", { name: "Fournisseurs d’identité" }).click();
  await expect(approver.getByRole("heading", { level: 2, name: "CSS démo A (Entra e2e)" })).toBeVisible();
  await expect(approver.getByText("domaines demo-a.example")).toBeVisible();
  await expect(approver.getByRole("button", { name: "Approuver CSS démo A (Entra e2e)" })).toBeEnabled();
  await expectAccessible(approver, "identity providers to approve");
  await approver.getByRole("button", { name: "Approuver CSS démo A (Entra e2e)" }).click();
  await expect(approver.getByRole("status")).toHaveText("CSS démo A (Entra e2e) est approuvé.");
  await expect(approver.getByText("Aucun fournisseur n’attend votre approbation.")).toBeVisible();
  await context.close();

  await page.reload();
  await expect(page.getByRole("row", { name: /CSS démo A \(Entra e2e\)/ })).toContainText("Approuvé le");
});

test("a person lists their sessions and ends the others; enrols an app with a QR code, renews its codes, removes it", async ({
  page,
  browser,
}) => {
  const elsewhere = await browser.newContext();
  const other = await elsewhere.newPage();
  await signIn(other, "demo-staff-a2");
  await signIn(page, "demo-staff-a2");
  await page.getByRole("link", { name: "Mon compte" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Mon compte" })).toBeVisible();
  const sessions = page.getByRole("table", { name: "Sessions de navigateur en cours" }).locator("tbody tr");
  await expect(sessions.filter({ hasText: "Cette session" })).toHaveCount(1);
  await expect(sessions.getByRole("button", { name: /^Fermer la session ouverte le / }).first()).toBeVisible();
  expect(await sessions.count()).toBeGreaterThanOrEqual(2);
  await expectAccessible(page, "account");
  await page.getByRole("button", { name: "Fermer toutes mes autres sessions" }).click();
  await expect(page.getByText("Vos autres sessions sont fermées.")).toBeVisible();
  await expect(sessions).toHaveCount(1);
  await expect(sessions.first()).toContainText("Cette session");
  await other.reload();
  await expect(other).toHaveURL(/\/sign-in$/);
  await elsewhere.close();

  // A wrong current password: refused, in words.
  await page.getByLabel("Mot de passe actuel").fill("pas le bon mot de passe");
  await page.getByLabel("Nouveau mot de passe").fill("une toute autre phrase pour essayer");
  await page.getByRole("button", { name: "Changer mon mot de passe" }).click();
  await expect(page.getByRole("alert")).toBeVisible();

  // The second factor: the key as a QR code, drawn in the page.
  await expect(page.getByText("Aucune application d’authentification n’est inscrite.")).toBeVisible();
  await page.getByLabel("Votre mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Obtenir une clé" }).click();
  const qr = page.getByRole("img", { name: "Code QR de la clé de votre application d’authentification" });
  await expect(qr).toBeVisible();
  expect(await qr.evaluate((e) => e.tagName.toLowerCase())).toBe("svg");
  expect(await qr.locator("path").getAttribute("d")).toMatch(/^M\d+ \d+h1v1h-1z/);
  await expectAccessible(page, "account: enrolment with its QR code");
  const secret = ((await page.locator("code.secret").first().textContent()) ?? "").trim();
  await page.getByLabel("Premier code affiché par l’application").fill(totp(secret));
  await page.getByRole("button", { name: "Confirmer" }).click();
  await expect(page.locator(".codes code")).toHaveCount(10);
  const codes = await page.locator(".codes code").allTextContents();
  expect(codes).toHaveLength(10);
  await page.getByRole("button", { name: "Continuer" }).click();
  await expect(page.getByText("Codes de récupération restants : 10.")).toBeVisible();
  await expectAccessible(page, "account: factor in use");

  const renew = page.getByRole("form", { name: "Nouveaux codes de récupération" });
  await renew.getByLabel("Mot de passe actuel").fill(PASSWORD);
  await renew.getByLabel("Code de l’application ou code de récupération").fill(codes[0]);
  await renew.getByRole("button", { name: "Nouveaux codes de récupération" }).click();
  await expect(page.locator(".codes code").first()).not.toHaveText(codes[0]);
  await expect(page.locator(".codes code")).toHaveCount(10);
  const renewed = await page.locator(".codes code").allTextContents();
  expect(renewed).not.toContain(codes[1]);

  const remove = page.getByRole("form", { name: "Retirer l’application d’authentification" });
  await remove.getByLabel("Mot de passe actuel").fill(PASSWORD);
  await remove.getByLabel("Code de l’application ou code de récupération").fill(renewed[0]);
  await remove.getByRole("button", { name: "Retirer l’application d’authentification" }).click();
  await expect(page.getByText("L’application d’authentification est retirée.")).toBeVisible();
  await expect(page.getByText("Aucune application d’authentification n’est inscrite.")).toBeVisible();
});
