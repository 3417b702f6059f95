import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// Built into the server's static files; the server serves index.html at / and bench.html for the web bench.
export default defineConfig({
  build: {
    outDir: process.env.TOKENSPACE_WWWROOT ?? resolve(import.meta.dirname, '../src/TokenSpace.Server/wwwroot'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 800, // three.js is one 540 kB module
    rollupOptions: { input: { index: resolve(import.meta.dirname, 'index.html'), bench: resolve(import.meta.dirname, 'bench.html') } },
  },
});
