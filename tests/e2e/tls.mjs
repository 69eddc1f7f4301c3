/**
 * The path every VM user's browser takes: Pujo terminating TLS itself, so Chromium
 * speaks HTTP/2 to it (ALPN), where a request names its authority in `:authority`
 * and carries no `Host` header. Every write must pass the CSRF check there:
 *
 *   register -> create an album -> upload a photo (tus) -> like and comment ->
 *   a guest sends a photo through an upload link (proof of work, tus) while the
 *   album's live wall (Server-Sent Events) shows it,
 *
 * each checked to have gone over h2 (the Resource Timing `nextHopProtocol`).
 *
 * Started by scripts/e2e.sh against `pujo serve --tls self-signed` (a certificate
 * for localhost, so Chromium is told to accept it), with:
 *   E2E_TLS_URL      e.g. https://localhost:41235
 *   E2E_ARTIFACTS    folder for failure screenshots
 */
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { CHROMIUM, CHROMIUM_FLAGS } from './lib/chromium.mjs'
import { Harness, assert } from './lib/harness.mjs'
import { makePhotos } from './lib/photos.mjs'

const BASE = process.env.E2E_TLS_URL
const ARTIFACTS = process.env.E2E_ARTIFACTS
if (!BASE || !ARTIFACTS) {
  console.error('run through scripts/e2e.sh (E2E_TLS_URL and E2E_ARTIFACTS are unset)')
  process.exit(2)
}
const url = (path) => new URL(path, BASE).toString()
const ACCOUNT = { username: `tls_${Date.now().toString(36)}`, password: 'shiuli-phool-2026' }
const COMMENT = 'HTTP/2 all the way: জয় মা দুর্গা'

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [...CHROMIUM_FLAGS.filter((f) => f !== '--headless'), '--ignore-certificate-errors'],
  headless: true,
  timeout: 30_000,
})
const h = new Harness({ artifacts: join(ARTIFACTS, 'tls'), browser })
console.log(`chromium ${browser.version()}, ${BASE} (TLS, HTTP/2)`)
const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-IN', ignoreHTTPSErrors: true })
context.setDefaultTimeout(10_000)
const page = h.watch(await context.newPage(), 'tls')
const heading = () => page.getByRole('heading', { level: 1 })
const nav = () => page.getByRole('navigation', { name: 'Main' })

/** Every request the page made to `path` (a prefix), with the protocol it went over. */
const protocolsOf = (path) =>
  page.evaluate(
    (path) =>
      performance
        .getEntriesByType('resource')
        .filter((e) => new URL(e.name).pathname.startsWith(path))
        .map((e) => e.nextHopProtocol),
    path,
  )

/** Refuses a step unless `path` was requested, and only ever over h2. */
async function overH2(path) {
  const seen = await protocolsOf(path)
  assert(seen.length > 0 && seen.every((p) => p === 'h2'), `${path} went over ${JSON.stringify(seen)}, not h2`)
}

await h.step('the site loads over HTTP/2 with TLS', async () => {
  const response = await page.goto(url('/'))
  assert(response?.ok(), `GET / answered ${response?.status()}`)
  await heading().filter({ hasText: 'Durga Puja, one pandal at a time' }).waitFor()
  const protocol = await page.evaluate(() => performance.getEntriesByType('navigation')[0]?.nextHopProtocol)
  assert(protocol === 'h2', `the page came over ${protocol}`)
  assert((response.headers()['strict-transport-security'] ?? '').startsWith('max-age='), 'no HSTS on the TLS listener')
  h.set('home', true)
  return protocol
})

await h.step(
  'register (POST over h2 passes the origin check)',
  async () => {
    await page.getByRole('link', { name: 'Register', exact: true }).click()
    await page.getByLabel('Username').fill(ACCOUNT.username)
    await page.getByLabel('Email').fill(`${ACCOUNT.username}@example.test`)
    await page.getByLabel('Password', { exact: true }).fill(ACCOUNT.password)
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.getByRole('button', { name: 'Log out' }).waitFor()
    await overH2('/api/v1/auth/register')
    const cookies = await context.cookies()
    const session = cookies.find((c) => c.name === '__Host-pujo_session')
    assert(session?.secure && session.httpOnly, `the session cookie is not __Host-, Secure and HttpOnly: ${JSON.stringify(cookies)}`)
    h.set('account', true)
  },
  { needs: ['home'] },
)

await h.step(
  'create an album and upload a photo (tus over h2)',
  async () => {
    await nav().getByRole('link', { name: 'Upload' }).click()
    await heading().filter({ hasText: 'Upload' }).waitFor()
    await page.getByLabel('Upload to').selectOption('new')
    const form = page.getByRole('form', { name: 'New album' })
    await form.getByLabel('Title').fill('Over TLS, Navami')
    await form.getByLabel('Who can see it').selectOption('public')
    await form.getByRole('button', { name: 'Create album' }).click()
    await page.waitForURL(/[?&]album=\d+/)
    h.set('album', Number(new URL(page.url()).searchParams.get('album')))
    const [photo] = await makePhotos(page)
    await page.locator('input[type=file]').setInputFiles([{ name: photo.name, mimeType: photo.mimeType, buffer: photo.buffer }])
    await page.getByRole('button', { name: 'Upload 1 photo' }).click()
    await page.waitForFunction(() => document.querySelectorAll('.upload-item--queued, .upload-item--uploading, .upload-item--ready, .upload-item--paused').length === 0, null, {
      timeout: 60_000,
    })
    const summary = (await page.locator('.upload-summary').textContent()) ?? ''
    const errors = await page.locator('.upload-item__error').allTextContents()
    assert(summary === '1 of 1 uploaded, 0 uploading, 0 failed.', `${summary} ${errors.join(' | ')}`)
    await overH2('/api/v1/albums')
    await overH2('/api/v1/uploads')
    h.set('uploaded', true)
  },
  { needs: ['account'], timeout: 90_000 },
)

await h.step(
  'like and comment on it (PUT and POST over h2)',
  async () => {
    await page.getByRole('link', { name: 'See the album' }).click()
    const grid = page.getByRole('list', { name: 'Photos in this album' })
    await grid.getByRole('link').first().click()
    await page.getByRole('dialog', { name: 'Photo viewer' }).getByRole('link', { name: 'Details and comments' }).click()
    await page.waitForURL(/\/photos\/\d+$/)
    await page.getByRole('button', { name: 'Like' }).click()
    await page.locator('.likes__count', { hasText: '1 like' }).waitFor()
    await page.getByLabel('Add a comment').fill(COMMENT)
    await page.getByRole('button', { name: 'Post comment' }).click()
    await page.locator('.comment-list .comment__body', { hasText: COMMENT }).waitFor()
    await overH2('/api/v1/photos/')
    await overH2('/media/')
  },
  { needs: ['uploaded'] },
)

await h.step(
  'a guest sends a photo through an upload link while the wall shows it live (SSE over h2)',
  async () => {
    const link = await page.evaluate(async (album) => {
      const res = await fetch(`/api/v1/albums/${album}/upload-links`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ label: 'TLS gate', needs_review: false }),
      })
      if (!res.ok) throw new Error(`upload link: ${res.status} ${await res.text()}`)
      return (await res.json()).url
    }, h.state.album)
    // The screen and the guest are browsers of their own (no service worker yet, so
    // the wall page itself comes over the network, and its event stream with it).
    const screenContext = await browser.newContext({ locale: 'en-IN', ignoreHTTPSErrors: true })
    const guestContext = await browser.newContext({ locale: 'en-IN', ignoreHTTPSErrors: true })
    guestContext.setDefaultTimeout(10_000)
    screenContext.setDefaultTimeout(10_000)
    const screen = h.watch(await screenContext.newPage(), 'tls wall')
    try {
      await screen.goto(url(`/wall/album/${h.state.album}`))
      await screen.locator('.wall__live--on').waitFor()
      const wallProtocol = await screen.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol)
      assert(wallProtocol === 'h2', `the wall page went over ${wallProtocol}`)
      const guest = h.watch(await guestContext.newPage(), 'tls guest')
      await guest.goto(url(link))
      await guest.getByLabel('Your name').fill('Tumpa')
      const photo = (await makePhotos(guest))[1]
      await guest.getByLabel('Photos', { exact: true }).setInputFiles([{ name: photo.name, mimeType: photo.mimeType, buffer: photo.buffer }])
      await guest.getByRole('button', { name: 'Send 1 photo' }).click()
      await guest.getByRole('status').filter({ hasText: 'Your 1 photo was sent' }).waitFor({ timeout: 30_000 })
      const seen = await guest.evaluate(() =>
        performance
          .getEntriesByType('resource')
          .filter((e) => /^\/api\/v1\/(guest|uploads|proof)/.test(new URL(e.name).pathname))
          .map((e) => e.nextHopProtocol),
      )
      assert(seen.length >= 3 && seen.every((p) => p === 'h2'), `the guest's requests went over ${JSON.stringify(seen)}`)
      // No review on this link: the wall, on its event stream over the same h2
      // connection, shows the photo with who sent it.
      await screen.getByText('New photo').waitFor({ timeout: 5_000 })
      await screen.locator('.wall__by', { hasText: 'Tumpa' }).waitFor()
    } finally {
      await guestContext.close()
      await screenContext.close()
    }
  },
  { needs: ['uploaded'], timeout: 90_000 },
)

await h.step('no CSP violations or uncaught errors over TLS', async () => {
  assert(h.problems.length === 0, h.problems.slice(0, 10).join('\n'))
})

await browser.close()
const ok = h.summary(join(ARTIFACTS, 'tls-results.json'))
process.exit(ok ? 0 : 1)
