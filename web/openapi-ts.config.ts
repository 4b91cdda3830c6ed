// The typed client, generated from the committed OpenAPI document
// (`make openapi` regenerates both; tests/test_web_client.py fails on drift).
import { defineConfig } from "@hey-api/openapi-ts";

export default defineConfig({
  input: process.env.SEXTO_OPENAPI ?? "../openapi/openapi.json",
  output: {
    path: process.env.SEXTO_CLIENT_OUT ?? "src/client",
    format: null,
    lint: null,
  },
  plugins: ["@hey-api/client-fetch", "@hey-api/typescript", "@hey-api/sdk"],
});
