/** Debian's Chromium, started the same way for Playwright and for Lighthouse. */
export const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium'

/** No network of its own (no updates, no sync), no sandbox (root in a container), no GPU. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]
