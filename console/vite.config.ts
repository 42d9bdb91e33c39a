import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The built files are embedded in the ferrocat binary (build.rs): hashed names under assets/,
// no inline scripts or styles (the ui's Content-Security-Policy forbids them).
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    // Inlined assets would become data: URLs in scripts; keep every file a file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 800,
  },
  server: {
    // `npm run dev` against a running stack: the edge on :8080 serves /api.
    proxy: { "/api": "http://127.0.0.1:8080" },
  },
});
