import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The bundle is committed inside the Python package (the node serves it at "/"), so the build
// must be reproducible: no timestamps, stable chunk names, one output folder emptied first.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../src/coalition/node/console/static",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: true,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8470" } },
});
