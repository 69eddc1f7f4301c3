/**
 * A small step runner: every check is a named step with a time limit. A step
 * that throws is a failure (with screenshots of every open page); a step whose
 * inputs an earlier failure never produced is "blocked", which also fails the
 * run. Nothing is skipped silently.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export class Harness {
  constructor({ artifacts, browser }) {
    this.artifacts = artifacts
    this.browser = browser
    this.results = []
    this.state = {}
    /** Console errors, page errors and CSP violations seen in any page. */
    this.problems = []
    mkdirSync(artifacts, { recursive: true })
  }

  /** Record that `key` is available for later steps. */
  set(key, value) {
    this.state[key] = value
  }

  /**
   * Run `fn(state)` as a step. `needs` lists state keys it cannot run without;
   * `timeout` bounds it (milliseconds).
   */
  async step(name, fn, { needs = [], timeout = 60_000 } = {}) {
    const missing = needs.filter((k) => this.state[k] === undefined)
    const started = Date.now()
    if (missing.length > 0) {
      this.record({ name, status: 'blocked', ms: 0, detail: `needs ${missing.join(', ')} from an earlier step` })
      return undefined
    }
    let timer
    try {
      const value = await Promise.race([
        fn(this.state),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeout / 1000} s`)), timeout)
        }),
      ])
      this.record({ name, status: 'pass', ms: Date.now() - started, detail: typeof value === 'string' ? value : '' })
      return value
    } catch (error) {
      const shots = await this.screenshots(name)
      const message = (error?.message ?? String(error)).split('\n').slice(0, 6).join('\n')
      this.record({ name, status: 'fail', ms: Date.now() - started, detail: message, shots })
      return undefined
    } finally {
      clearTimeout(timer)
    }
  }

  record(result) {
    this.results.push(result)
    const mark = { pass: 'ok  ', fail: 'FAIL', blocked: 'BLKD' }[result.status]
    const time = result.ms ? ` (${(result.ms / 1000).toFixed(1)} s)` : ''
    console.log(`${mark} ${result.name}${time}${result.detail ? `: ${result.detail}` : ''}`)
    for (const shot of result.shots ?? []) console.log(`     screenshot: ${shot}`)
  }

  async screenshots(name) {
    const slug = `${String(this.results.length + 1).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`.slice(0, 80)
    const shots = []
    const pages = this.browser.contexts().flatMap((c) => c.pages())
    for (const [i, page] of pages.entries()) {
      if (page.isClosed()) continue
      const file = join(this.artifacts, `${slug}-${i}.png`)
      try {
        await page.screenshot({ path: file, fullPage: true, timeout: 10_000 })
        shots.push(`${file} (${page.url()})`)
      } catch {
        // A page that cannot be drawn any more adds nothing.
      }
    }
    return shots
  }

  /** Watch a page for uncaught errors and CSP violations (the server's policy is strict). */
  watch(page, who) {
    const note = (text) => {
      const line = `${who}: ${text.split('\n')[0].slice(0, 240)} (at ${page.url()})`
      if (!this.problems.includes(line)) this.problems.push(line)
    }
    page.on('pageerror', (error) => note(`uncaught ${error.message}`))
    page.on('console', (msg) => {
      const text = msg.text()
      if (/Content Security Policy|Refused to (load|execute|apply)/i.test(text)) note(text)
    })
    return page
  }

  summary(file) {
    const count = (s) => this.results.filter((r) => r.status === s).length
    const passed = count('pass')
    const failed = count('fail') + count('blocked')
    writeFileSync(file, JSON.stringify(this.results, null, 2) + '\n')
    console.log('')
    for (const r of this.results.filter((r) => r.status !== 'pass')) console.log(`  ${r.status}: ${r.name}: ${r.detail}`)
    console.log(`e2e: ${passed} passed, ${failed} failed`)
    return failed === 0
  }
}

export function assert(condition, message) {
  if (!condition) throw new Error(message)
}
