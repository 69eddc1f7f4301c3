/**
 * Lighthouse on one URL in a Chromium of its own (a clean profile, as Lighthouse
 * expects), with its default mobile settings (simulated slow 4G and a 4x slower
 * CPU) or its desktop preset.
 */
import { launch } from 'chrome-launcher'
import lighthouse from 'lighthouse'
import desktopConfig from 'lighthouse/core/config/desktop-config.js'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CHROMIUM, CHROMIUM_FLAGS } from './chromium.mjs'

export const CATEGORIES = ['performance', 'accessibility', 'best-practices']
const METRICS = {
  'first-contentful-paint': 'fcp_ms',
  'largest-contentful-paint': 'lcp_ms',
  'total-blocking-time': 'tbt_ms',
  'cumulative-layout-shift': 'cls',
  'speed-index': 'si_ms',
}

export async function runLighthouse(url, options) {
  // Lighthouse sometimes loses the start of its trace (NO_NAVSTART, "please run Lighthouse
  // again") on a busy machine: such a run measured nothing, so it is run once more.
  // A low score is never retried.
  try {
    return await runOnce(url, options)
  } catch (error) {
    if (!/NO_NAVSTART|PROTOCOL_TIMEOUT/.test(error.message)) throw error
    console.log(`     lighthouse: ${error.message.split('\n')[0]}; running it again`)
    return runOnce(url, options)
  }
}

async function runOnce(url, { formFactor, artifacts, label }) {
  const chrome = await launch({ chromePath: CHROMIUM, chromeFlags: CHROMIUM_FLAGS, logLevel: 'silent' })
  try {
    const runner = await lighthouse(
      url,
      { port: chrome.port, output: 'html', logLevel: 'error', onlyCategories: CATEGORIES },
      formFactor === 'desktop' ? desktopConfig : undefined,
    )
    const lhr = runner?.lhr
    if (!lhr) throw new Error(`Lighthouse returned nothing for ${url}`)
    writeFileSync(join(artifacts, `lighthouse-${label}-${formFactor}.html`), runner.report)
    if (lhr.runtimeError) throw new Error(`Lighthouse: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`)
    const scores = Object.fromEntries(CATEGORIES.map((c) => [c, Math.round((lhr.categories[c]?.score ?? 0) * 100)]))
    const metrics = Object.fromEntries(
      Object.entries(METRICS).map(([id, key]) => {
        const v = lhr.audits[id]?.numericValue
        return [key, v === undefined ? null : key === 'cls' ? Math.round(v * 1000) / 1000 : Math.round(v)]
      }),
    )
    // What cost points, for the report when a score is short.
    const findings = Object.values(lhr.audits)
      .filter((a) => a.score !== null && a.score < 0.9 && ['binary', 'numeric', 'metricSavings'].includes(a.scoreDisplayMode))
      .map((a) => `${a.id}${a.displayValue ? ` (${a.displayValue})` : ''}`)
    // Audits that failed outright (binary ones, or lists of offending items).
    const failed = Object.values(lhr.audits)
      .filter((a) => a.score !== null && a.score < 1 && (a.scoreDisplayMode === 'binary' || (a.details?.items?.length ?? 0) > 0))
      .map((a) => a.id)
    return { url, formFactor, scores, metrics, findings, failed, lighthouse: lhr.lighthouseVersion, userAgent: lhr.environment?.hostUserAgent }
  } finally {
    await chrome.kill()
  }
}
