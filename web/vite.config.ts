/// <reference types="vitest/config" />
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { build, defineConfig, type Plugin } from 'vite'
import react from '@vitejs/plugin-react'

/** Files from public/ that the offline shell needs besides the build's own. */
const SHELL_FILES = ['/favicon.svg', '/manifest.webmanifest', '/icons/icon-192.png']

/**
 * Builds sw/sw.ts, with the modules of src/ it imports (the tus client, the
 * upload store and lock), into dist/sw.js: one classic script with no imports
 * left (a service worker must be a same-origin file, and Pujo's CSP for it
 * allows no scripts to be loaded), with the list of files to keep for offline
 * use and a version that changes with them and with the worker's code.
 */
function serviceWorker(): Plugin {
  return {
    name: 'pujo-service-worker',
    apply: 'build',
    async generateBundle(_options, bundle) {
      const built = Object.keys(bundle)
        .filter((name) => name.startsWith('assets/') && !name.endsWith('.map'))
        .sort()
      const precache = ['/', ...SHELL_FILES, ...built.map((name) => `/${name}`)]
      const output = await build({
        configFile: false,
        logLevel: 'warn',
        publicDir: false,
        build: {
          write: false,
          target: 'es2022',
          minify: false,
          sourcemap: false,
          modulePreload: false,
          copyPublicDir: false,
          lib: { entry: fileURLToPath(new URL('./sw/sw.ts', import.meta.url)), formats: ['iife'], name: 'pujoServiceWorker' },
          rollupOptions: { output: { entryFileNames: 'sw.js', inlineDynamicImports: true } },
        },
      })
      const chunks = (Array.isArray(output) ? output : [output]).flatMap((o) => ('output' in o ? o.output : []))
      const chunk = chunks.find((c) => c.type === 'chunk' && c.isEntry)
      if (!chunk || chunk.type !== 'chunk') throw new Error('the service worker build made no script')
      const version = createHash('sha256').update(chunk.code).update(precache.join('\n')).digest('hex').slice(0, 16)
      const header = `const PRECACHE = ${JSON.stringify(precache)};\nconst VERSION = ${JSON.stringify(version)};\n`
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: header + chunk.code })
    },
  }
}

// The Rust server (`cargo run`) listens here during development.
const API_ORIGIN = 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [react(), serviceWorker()],
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
