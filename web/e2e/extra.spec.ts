// Run only on demand (playwright.config.ts): the docs' screenshots of the
// case page (make web-screenshots) and the web benchmark (make bench-web).
import { gzipSync } from "node:zlib";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test, type Page } from "@playwright/test";
import { signIn } from "./helpers";

const HERE = dirname(fileURLToPath(import.meta.url));
const DOCS = resolve(HERE, "../../docs/images");

async function openDemoCase(page: Page): Promise<string> {
  await signIn(page, "demo-staff-a");
  await page.getByRole("link", { name: "Ouvrir un dossier" }).click();
  await page.getByLabel("Qui a signalé la situation").selectOption("student");
  await page.getByLabel("Où elle s’est produite").selectOption("online_only");
  await page.getByLabel("Résumé factuel, sans aucun nom").fill("Une photo circulerait dans une conversation de groupe de 3e secondaire.");
  await page.getByRole("button", { name: "Ouvrir le dossier" }).click();
  await expect(page.getByRole("heading", { level: 1, name: /^Dossier / })).toBeVisible();
  await page.getByText("Inscrire une personne concernée").click();
  await page.getByLabel("Nom (visible seulement au dossier)").fill("Élève Démo");
  await page.getByRole("button", { name: "Inscrire", exact: true }).click();
  await expect(page.locator(".people li").first()).toContainText("P1");
  await page.getByText("Inscrire une personne concernée").click();
  return page.url();
}

test("@docs the case page in French, on a desktop and on a phone", async ({ page, browser }) => {
  const url = await openDemoCase(page);
  mkdirSync(DOCS, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: `${DOCS}/case-page-fr.png`, fullPage: true });
  const cookies = await page.context().cookies();
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await phone.addCookies(cookies);
  const small = await phone.newPage();
  await small.goto(url);
  await expect(small.getByRole("heading", { level: 1, name: /^Dossier / })).toBeVisible();
  await expect(small.locator(".people li").first()).toContainText("P1");
  await small.screenshot({ path: `${DOCS}/case-page-phone.png`, fullPage: true });
  await phone.close();
});

test("@bench initial JavaScript and the case page's readiness", async ({ page }) => {
  // What index.html loads before anything else: its scripts and module preloads.
  const dist = resolve(HERE, "../dist");
  const html = readFileSync(`${dist}/index.html`, "utf-8");
  const scripts = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
  const gzipped = scripts.reduce((sum, path) => sum + gzipSync(readFileSync(`${dist}${path}`), { level: 9 }).length, 0);
  const url = await openDemoCase(page);
  const rounds: number[] = [];
  let calls = 0;
  page.on("request", (request) => {
    if (request.url().includes("/api/")) calls += 1;
  });
  for (let i = 0; i < 10; i++) {
    calls = 0;
    const start = Date.now();
    await page.goto(url);
    await expect(page.locator(".people li").first()).toContainText("P1");
    await expect(page.locator(".checklist li").first()).toBeVisible();
    await expect(page.locator(".actions li").first()).toBeVisible();
    rounds.push(Date.now() - start);
  }
  rounds.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      initial_js_gzip_kb: Math.round((gzipped / 1024) * 10) / 10,
      initial_js_files: scripts.length,
      case_page_ready_ms: { p50: rounds[4], max: rounds[9], rounds: 10 },
      api_calls_per_case_page_load: calls,
    }),
  );
});
