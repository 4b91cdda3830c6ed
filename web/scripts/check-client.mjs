// Fails when src/client (committed) is not what @hey-api/openapi-ts makes of
// the committed OpenAPI document: run `make openapi` to regenerate both.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const committed = "src/client";
const fresh = mkdtempSync(join(tmpdir(), "sexto-client-"));
try {
  execFileSync(join("node_modules", ".bin", "openapi-ts"), [], {
    env: { ...process.env, SEXTO_CLIENT_OUT: fresh },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const a = new Set(files(committed).map((f) => relative(committed, f)));
  const b = new Set(files(fresh).map((f) => relative(fresh, f)));
  const drift = [...new Set([...a, ...b])].filter(
    (f) => !a.has(f) || !b.has(f) || readFileSync(join(committed, f), "utf-8") !== readFileSync(join(fresh, f), "utf-8"),
  );
  if (drift.length > 0) {
    console.error(`web/src/client drifted from openapi/openapi.json (${drift.join(", ")}): run make openapi`);
    process.exit(1);
  }
  console.log(`web/src/client matches openapi/openapi.json (${a.size} files)`);
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
