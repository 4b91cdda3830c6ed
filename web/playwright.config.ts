// Browser tests against the real service (e2e/serve.sh: SQLite, demo data),
// in Debian's Chromium (Playwright's own browser download is not used).
import { execFileSync } from "node:child_process";
import { defineConfig, devices } from "@playwright/test";

// One free port, chosen once by the main process (workers inherit it).
process.env.SEXTO_E2E_PORT ??= execFileSync("python3", [
  "-c",
  "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])",
])
  .toString()
  .trim();
const baseURL = `http://127.0.0.1:${process.env.SEXTO_E2E_PORT}`;
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  // The docs' screenshots (@docs, make web-screenshots) and the benchmark
  // (@bench, make bench-web) run only when asked for.
  ...(process.env.SEXTO_E2E_EXTRA ? { grep: new RegExp(process.env.SEXTO_E2E_EXTRA) } : { grepInvert: /@docs|@bench/ }),
  timeout: 30_000,
  use: {
    baseURL,
    screenshot: "only-on-failure",
    trace: "off",
    launchOptions: { executablePath, args: ["--no-sandbox"] },
  },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"], channel: undefined } },
  ],
  webServer: {
    command: "./e2e/serve.sh",
    url: `${baseURL}/healthz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
  },
});
