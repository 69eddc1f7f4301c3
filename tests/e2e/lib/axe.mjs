/**
 * axe-core in the page under test. It is evaluated through the DevTools
 * protocol, which the page's Content Security Policy does not govern, so the
 * page keeps the server's strict policy (no inline script) while it is checked.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const require = createRequire(import.meta.url)
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const BLOCKING = new Set(['serious', 'critical'])

/**
 * Runs every axe rule (WCAG 2.x A/AA and best practices) over the whole page.
 * Returns `{ blocking, other }`: lines describing serious or critical
 * violations, and lines for the moderate and minor ones. The full result is
 * written to `artifacts/axe-<label>.json`.
 */
export async function axeCheck(page, label, artifacts) {
  // Let animations and pending renders settle: axe reads computed colours.
  await page.waitForLoadState('load')
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))))
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE)
  const result = await page.evaluate(() =>
    window.axe.run(document, { resultTypes: ['violations'], runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } }),
  )
  const slug = label.replace(/[^a-z0-9]+/gi, '-').toLowerCase()
  writeFileSync(join(artifacts, `axe-${slug}.json`), JSON.stringify({ url: page.url(), violations: result.violations }, null, 2))
  const describe = (v) => `${v.impact} ${v.id} (${v.nodes.length}x: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}): ${v.help}`
  return {
    blocking: result.violations.filter((v) => BLOCKING.has(v.impact)).map(describe),
    other: result.violations.filter((v) => !BLOCKING.has(v.impact)).map(describe),
  }
}
