import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The service serves dist/ at / (app/web.py): assets under /assets/, hashed.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    // No inline script or style in index.html: the CSP allows 'self' only.
    assetsInlineLimit: 0,
  },
  server: {
    // `npm run dev`: the API of a service on port 8000 (make run), same origin for the browser.
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
});
