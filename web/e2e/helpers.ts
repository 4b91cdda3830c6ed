import AxeBuilder from "@axe-core/playwright";
import { createHmac } from "node:crypto";
import { expect, type Page } from "@playwright/test";

export const PASSWORD = process.env.SEXTO_DEMO_PASSWORD ?? "sexto-demo-2026";

/** axe-core on the page as it is now: no serious or critical violation (WCAG 2.2 AA). */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"])
    .analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`), where).toEqual([]);
}

/** Signs in through the form; waits until the app lands on ``landing`` (null: does not wait). */
export async function signIn(page: Page, username: string, landing: RegExp | null = /\/cases$/): Promise<void> {
  await page.goto("/sign-in");
  await page.getByLabel("Nom d’utilisateur").fill(username);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Ouvrir la session" }).click();
  if (landing) await expect(page).toHaveURL(landing);
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s), for the test's authenticator app. */
export function totp(base32: string, at = Date.now()): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of base32.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return code.toString().padStart(6, "0");
}

/** Nothing but the language choice in the browser's storage. */
export async function expectNothingStored(page: Page): Promise<void> {
  const stored = await page.evaluate(() => ({
    local: Object.keys(localStorage).filter((k) => k !== "sexto.language"),
    session: Object.keys(sessionStorage),
  }));
  expect(stored).toEqual({ local: [], session: [] });
}
