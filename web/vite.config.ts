/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// The Rust server (`cargo run`) listens here during development.
const API_ORIGIN = 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [react()],
  // Served from the site root by the pujo binary; deep links such as
  // /pandals fall back to index.html, so asset URLs must be absolute.
  base: '/',
  server: {
    proxy: {
      '/api': API_ORIGIN,
      '/media': API_ORIGIN,
      '/health': API_ORIGIN,
      '/ready': API_ORIGIN,
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    // The server's CSP is `script-src 'self'`: the module-preload polyfill
    // would be an inline <script>, so it must not be emitted.
    modulePreload: { polyfill: false },
    // Never turn assets into data: URLs (fonts would break under
    // `font-src 'self'`); always emit real hashed files.
    assetsInlineLimit: 0,
    cssCodeSplit: true,
    sourcemap: false,
    target: 'es2022',
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
    restoreMocks: true,
    unstubGlobals: true,
  },
})
