// The case page's school side, as demo staff and the demo lead of school A:
// devices and their chain of custody, contacts (and a protocol refusal in
// words), notes, the case team, the hand-off, closing and reopening.
import { expect, type Page, test } from "@playwright/test";
import { expectAccessible, expectNothingStored, signIn } from "./helpers";

/** A `datetime-local` value an hour ago, in the browser's (and this process's) time zone. */
function anHourAgo(): string {
  const at = new Date(Date.now() - 3600_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

async function openCase(page: Page, summary: string): Promise<string> {
  await page.getByRole("link", { name: "Ouvrir un dossier" }).click();
  await page.getByLabel("Résumé factuel, sans aucun nom").fill(summary);
  await page.getByRole("button", { name: "Ouvrir le dossier" }).click();
  const title = page.getByRole("heading", { level: 1, name: /^Dossier / });
  await expect(title).toBeVisible();
  return ((await title.textContent()) ?? "").replace(/^Dossier /, "");
}

async function addPerson(page: Page, kind: string, name: string, minor: boolean): Promise<void> {
  const role = page.getByLabel("Rôle dans la situation");
  if (!(await role.isVisible())) await page.getByText("Inscrire une personne concernée").click();
  await role.selectOption(kind);
  await page.getByLabel("Nom (visible seulement au dossier)").fill(name);
  if (!minor) await page.getByLabel("Personne mineure").uncheck();
  await page.getByRole("button", { name: "Inscrire", exact: true }).click();
  await expect(page.locator(".people li").filter({ hasText: name })).toBeVisible();
}

test("staff record a device and its custody, contacts and a note; the lead manages the team and closes after the hand-off", async ({
  page,
}) => {
  // A long walk through the page, with axe at each state, on a shared machine.
  test.setTimeout(120_000);
  await signIn(page, "demo-staff-a");
  const reference = await openCase(page, "Une photo aurait été montrée sur un téléphone en classe.");
  await addPerson(page, "depicted", "Élève Démo", true);
  await addPerson(page, "witness", "Adulte Témoin", false);

  // The team: staff see it, and that the lead chooses it.
  const team = page.getByRole("region", { name: "Équipe du dossier" });
  await expect(team.getByText("Sam Intervenant", { exact: true })).toBeVisible();
  await expect(team.getByRole("button", { name: /Retirer/ })).toHaveCount(0);
  await expect(team.getByText("Seule la direction de l’école choisit l’équipe du dossier.")).toBeVisible();
  await expect(page.getByRole("region", { name: "Remise à la police" })).toContainText("n’a pas été remis");

  // A device: never a picture; the confirmations the protocol asks for.
  const devices = page.getByRole("region", { name: "Appareils confisqués" });
  await expect(devices.getByText("Aucun appareil inscrit.")).toBeVisible();
  await devices.getByText("Inscrire un appareil confisqué").click();
  await expect(devices.getByText("N’ajoutez jamais d’image, de vidéo ni d’enregistrement audio")).toBeVisible();
  await expect(page.locator('input[type="file"]')).toHaveCount(0);
  await devices.getByLabel("Type d’appareil").selectOption("phone");
  await devices.getByLabel("Description (couleur, étui… sans contenu de l’appareil)").fill("Téléphone noir, étui bleu");
  await devices.getByLabel("Propriétaire").selectOption({ label: "P1 — Élève Démo" });
  await devices.getByLabel("L’élève a éteint l’appareil").check();
  await devices.getByLabel("Personne n’a regardé le contenu de l’appareil").check();
  await devices.getByRole("button", { name: "Inscrire l’appareil" }).click();
  const chain = devices.getByRole("list", { name: "Chaîne de possession de D1" });
  await expect(chain.getByRole("listitem")).toHaveCount(1);
  await expect(chain.getByRole("listitem").first()).toContainText("Confisqué");
  await expect(chain.getByRole("listitem").first()).toContainText("Inscrit par Sam Intervenant (Intervenant·e)");
  await expect(devices.getByText("sous la garde de l’école", { exact: true })).toBeVisible();
  await expectAccessible(page, "case page: a device recorded");

  // Its custody: stored under seal, then handed to police with the officer's badge.
  await devices.getByText("Inscrire l’étape suivante pour D1").click();
  await devices.getByLabel("Étape", { exact: true }).selectOption("stored");
  await devices.getByLabel("Numéro de scellé", { exact: true }).fill("SC-000123");
  await devices.getByLabel("Lieu d’entreposage", { exact: true }).fill("Coffre de la direction");
  await devices.getByRole("button", { name: "Inscrire l’étape" }).click();
  await expect(chain.getByRole("listitem")).toHaveCount(2);
  await expect(chain.getByRole("listitem").nth(1)).toContainText("Entreposé");
  await expect(chain.getByRole("listitem").nth(1)).toContainText("SC-000123");
  await expectAccessible(page, "case page: custody, stored");
  await devices.getByLabel("Étape", { exact: true }).selectOption("transferred_to_police");
  await devices.getByRole("button", { name: "Inscrire l’étape" }).click();
  // The API says a transfer names the officer: its refusal, in words.
  await expect(devices.getByRole("alert")).toBeVisible();
  await expectAccessible(page, "case page: custody refused");
  await devices.getByLabel("Policier ou policière qui prend l’appareil (nom)").fill("Agente Paquette");
  await devices.getByLabel("Matricule").fill("4521");
  await devices.getByRole("button", { name: "Inscrire l’étape" }).click();
  await expect(chain.getByRole("listitem")).toHaveCount(3);
  await expect(chain.getByRole("listitem").nth(2)).toContainText("Remis à la police");
  await expect(chain.getByRole("listitem").nth(2)).toContainText("4521");
  await expect(devices.getByText("hors de la garde de l’école")).toBeVisible();
  await expect(devices.getByText("Inscrire l’étape suivante pour D1")).toHaveCount(0);

  // Contacts: the parents of a minor; an adult's parents are refused, in words.
  const contacts = page.getByRole("region", { name: "Contacts" });
  await contacts.getByText("Inscrire un contact").click();
  await contacts.getByLabel("Type de contact").selectOption("parent_notification");
  await contacts.getByLabel("Élève concerné·e").selectOption({ label: "P2 — Adulte Témoin" });
  await contacts.getByLabel("Parent joint").selectOption("mother");
  await contacts.getByLabel("Moyen").selectOption("phone");
  await contacts.getByLabel("Quand").fill(anHourAgo());
  await contacts.getByRole("button", { name: "Inscrire le contact" }).click();
  await expect(contacts.getByRole("alert")).toBeVisible();
  await expect(contacts.getByText("Aucun contact inscrit.")).toBeVisible();
  await expectAccessible(page, "case page: a contact refused");
  await contacts.getByLabel("Élève concerné·e").selectOption({ label: "P1 — Élève Démo" });
  await contacts.getByLabel("Parent joint").selectOption("mother");
  await contacts.getByLabel("Moyen").selectOption("phone");
  await contacts.getByLabel("Quand").fill(anHourAgo());
  await contacts.getByRole("button", { name: "Inscrire le contact" }).click();
  await expect(contacts.locator("ul.contacts li")).toHaveCount(1);
  await expect(contacts.locator("ul.contacts li").first()).toContainText("Parents avisés — P1");
  await expect(contacts.locator("ul.contacts li").first()).toContainText("Mère");
  await expect(contacts.getByRole("alert")).toHaveCount(0);

  // A note, words only.
  const notes = page.getByRole("region", { name: "Notes (chronologie)" });
  await notes.getByText("Ajouter une note").click();
  await expect(notes.getByText("N’ajoutez jamais d’image")).toBeVisible();
  await notes.getByLabel("Note", { exact: true }).fill("Rencontre de soutien avec l’élève ; ressources d’aide remises.");
  await notes.getByRole("button", { name: "Ajouter la note" }).click();
  await expect(notes.locator("ol.notes li")).toHaveCount(1);
  await expect(notes.locator("ol.notes li").first()).toContainText("ressources d’aide remises");
  await expect(notes.locator("ol.notes li").first()).toContainText("par Sam Intervenant");
  await expectAccessible(page, "case page: device, contact and note (staff)");
  await expect(page.locator('input[type="file"]')).toHaveCount(0);
  await expectNothingStored(page);
  // Closing is the lead's: staff see it refused, with why.
  await expect(page.locator(".actions li.refused").filter({ hasText: "Fermer le dossier" })).toBeVisible();
  await page.getByRole("button", { name: "Fermer la session" }).click();

  // The lead: the team, then the hand-off and the closing.
  await signIn(page, "demo-lead-a");
  await page.getByRole("link", { name: `Ouvrir le dossier ${reference}` }).click();
  const leadTeam = page.getByRole("region", { name: "Équipe du dossier" });
  await expect(leadTeam.getByText("Sam Intervenant", { exact: true })).toBeVisible();
  await leadTeam.getByText("Ajouter à l’équipe").click();
  const sophie = await leadTeam.locator("option", { hasText: "Sophie Nouvelle" }).getAttribute("value");
  await leadTeam.getByLabel("Membre du personnel").selectOption(sophie ?? "");
  await leadTeam.getByRole("button", { name: "Ajouter", exact: true }).click();
  await expect(leadTeam.locator("ul.team li").filter({ hasText: "Sophie Nouvelle" })).toContainText("consultation seulement");
  await expectAccessible(page, "case page: the team (lead)");
  await leadTeam.getByRole("button", { name: "Retirer Sophie Nouvelle de l’équipe" }).click();
  await expect(leadTeam.locator("ul.team li").filter({ hasText: "Sophie Nouvelle" })).toHaveCount(0);
  await expect(leadTeam.locator("ul.team li").filter({ hasText: "Sam Intervenant" })).toBeVisible();
  // What staff recorded reads under their names for the lead too.
  await expect(page.getByRole("list", { name: "Chaîne de possession de D1" })).toContainText("Sam Intervenant");

  await page.getByLabel("Policier ou policière joint·e (nom)").fill("Agente Tremblay");
  await page.getByRole("button", { name: "Remettre le dossier à la police" }).click();
  await expect(page.getByRole("img", { name: /Étape actuelle : Remis à la police/ })).toBeVisible();
  const handOff = page.getByRole("region", { name: "Remise à la police" });
  await expect(handOff).toContainText("Agente Tremblay");
  await expect(handOff).toContainText("La police n’a pas encore confirmé la prise en charge.");
  await expectAccessible(page, "case page: handed off (lead)");
  await page.getByRole("button", { name: "Fermer le dossier" }).click();
  await expect(page.getByRole("img", { name: /Étape actuelle : Fermé/ })).toBeVisible();
  // A case handed off is never reopened: the refusal says so, in words.
  await expect(page.locator(".actions li.refused").filter({ hasText: "Rouvrir le dossier" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Rouvrir le dossier" })).toHaveCount(0);
  // Closed: nothing more is recorded on devices or contacts.
  await expect(page.getByText("Inscrire un appareil confisqué")).toHaveCount(0);
  await expect(page.getByText("Inscrire un contact")).toHaveCount(0);
  await expectAccessible(page, "case page: closed (lead)");
});

test("the lead resolves a case handled at school, closes it and reopens it with a reason", async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page, "demo-lead-a");
  await openCase(page, "Un élève dit avoir reçu une photo; aucune diffusion connue.");
  await addPerson(page, "reporter", "Personne Signalante", false);
  await page.getByRole("button", { name: "Commencer l’évaluation" }).click();
  await expect(page.getByRole("img", { name: /Étape actuelle : En évaluation/ })).toBeVisible();

  // The reporter's interview, every required answer its first choice.
  await page.getByRole("link", { name: "Remplir la grille d’évaluation" }).click();
  await expect(page.getByRole("group", { name: "Amorce" })).toBeVisible();
  for (const select of await page.locator("form.grid select[required]").all()) {
    await select.selectOption({ index: 1 });
  }
  for (const input of await page.locator('form.grid input[type="datetime-local"][required]').all()) {
    await input.fill(anHourAgo());
  }
  for (const group of await page.locator('form.grid fieldset[data-required="true"]').all()) {
    await group.locator('input[type="checkbox"]').first().check();
  }
  await page.getByRole("button", { name: "Soumettre la grille" }).click();
  await expect(page.getByRole("status")).toContainText("Grille soumise");
  await page.goBack();

  await page.getByRole("button", { name: "Passer à la collecte d’information" }).click();
  await expect(page.getByRole("img", { name: /Étape actuelle : Collecte d’information/ })).toBeVisible();
  await page.getByRole("button", { name: "Résoudre" }).click();
  await expect(page.getByRole("img", { name: /Étape actuelle : Résolu/ })).toBeVisible();
  await page.getByRole("button", { name: "Fermer le dossier" }).click();
  await expect(page.getByRole("img", { name: /Étape actuelle : Fermé/ })).toBeVisible();
  await expect(page.getByText("Seule la direction de l’école ferme et rouvre un dossier.", { exact: false })).toBeVisible();
  await expectAccessible(page, "case page: closed, may reopen (lead)");
  await page.getByLabel("Raison de la réouverture").fill("Nouvelle information reçue de l’élève.");
  await page.getByRole("button", { name: "Rouvrir le dossier" }).click();
  await expect(page.getByRole("img", { name: /Étape actuelle : (?!Fermé)/ })).toBeVisible();
  await expect(page.getByRole("button", { name: "Fermer le dossier" })).toHaveCount(0);
  await expectAccessible(page, "case page: reopened (lead)");
});
