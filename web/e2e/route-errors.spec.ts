// A screen's code that cannot be loaded (the network dropped, or a new
// version replaced it) is said as a problem in the person's language with a
// way to try again: never the router's English "Something went wrong!" with
// the error's message, never a blank page.
import { expect, test } from "@playwright/test";
import { expectAccessible, signIn } from "./helpers";

test("a screen whose code cannot load shows a problem in French, not the router's error", async ({ page }) => {
  await page.route(/\/assets\/AuditPage-[^/]*\.js$/, (route) => route.abort());
  await signIn(page, "demo-auditor", /\/audit$/);
  const alert = page.getByRole("alert");
  await expect(alert).toBeVisible();
  await expect(alert.getByRole("heading", { name: "Impossible de continuer" })).toBeVisible();
  await expect(alert).toContainText("Le service ne répond pas.");
  await expect(alert.getByRole("button", { name: "Réessayer" })).toBeVisible();
  await expect(page.getByText("Something went wrong!")).toHaveCount(0);
  await expect(page.getByText(/dynamically imported module/)).toHaveCount(0);
  await expectAccessible(page, "a screen that could not load");
});
