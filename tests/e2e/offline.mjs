/**
 * Pujo without a network. The site installs (web manifest, icons, a service
 * worker) and opens offline from the service worker's shell. The upload queue
 * outlives the connection, the tab and the browser:
 *
 *   five photos queued -> the network taken away (every file paused, none lost)
 *   -> the network back -> the page reloaded mid-upload -> the queue comes back
 *   from IndexedDB and goes on from the offsets Pujo holds (tus HEAD, then
 *   PATCH from there) -> the album has each of the five photos once;
 *
 *   two photos picked offline -> the browser closed and started again on the
 *   same profile -> they are still queued and arrive once the page is open;
 *
 *   three photos picked offline -> every tab closed (the context and its
 *   service worker stay) -> the network back -> Background Sync wakes the
 *   service worker, which sends them itself (tus over fetch) -> Pujo has each
 *   once, with no tab open in between -> a tab opened then shows them done;
 *
 *   the data saver: a 3000 px photo goes as a 2048 px copy made in the page,
 *   keeping the date it was taken and, as the owner shows positions, its place.
 *
 * The photos are noise, so each JPEG is larger than one tus chunk (1 MiB) and
 * a reload can fall between two chunks of one file. Chunks are held back a
 * little on the way (a route), so that the reload finds uploads in flight.
 *
 * Started by scripts/e2e.sh against the same `pujo serve` as run.mjs, with:
 *   E2E_BASE_URL     where pujo listens, e.g. http://127.0.0.1:41234
 *   E2E_ARTIFACTS    folder for failure screenshots
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { CHROMIUM, CHROMIUM_FLAGS } from './lib/chromium.mjs'
import { Harness, assert } from './lib/harness.mjs'
import { solveProof } from './lib/proof.mjs'

const BASE = process.env.E2E_BASE_URL
const ARTIFACTS = process.env.E2E_ARTIFACTS
if (!BASE || !ARTIFACTS) {
  console.error('run through scripts/e2e.sh (E2E_BASE_URL and E2E_ARTIFACTS are unset)')
  process.exit(2)
}
const url = (path) => new URL(path, BASE).toString()
const ACCOUNT = { username: `resume_${Date.now().toString(36)}`, password: 'shiuli-phool-2026' }
/** How long each chunk is held before it goes on to Pujo (ms). */
const HOLD_MS = 250
const FLAGS = CHROMIUM_FLAGS.filter((f) => f !== '--headless')
const CONTEXT = { viewport: { width: 1280, height: 800 }, locale: 'en-IN' }

const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true, timeout: 30_000 })
const h = new Harness({ artifacts: join(ARTIFACTS, 'offline'), browser })
console.log(`chromium ${browser.version()}, ${BASE} (offline, resumable uploads)`)

/** JSON API call from the page (same origin: the browser sends Origin and the cookie). */
function api(page, method, path, body, headers = {}) {
  return page.evaluate(
    async ({ method, path, body, headers }) => {
      const response = await fetch(path, {
        method,
        headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
        body: body ? JSON.stringify(body) : undefined,
      })
      const text = await response.text()
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
      return text ? JSON.parse(text) : null
    },
    { method, path, body, headers },
  )
}

/** `count` JPEGs of noise, each about 2 MiB (two tus chunks), drawn and encoded by Chromium. */
async function noisyPhotos(page, prefix, count, { width = 2000, height = 1400 } = {}) {
  const made = await page.evaluate(
    async ({ prefix, count, width, height }) => {
      const out = []
      // Pujo answers the same bytes in the same album with the photo it has: every set differs.
      let seed = [...prefix].reduce((s, c) => (s * 31 + c.charCodeAt(0)) % 2147483648, 20261006)
      for (let n = 0; n < count; n++) {
        const canvas = document.createElement('canvas')
        canvas.width = width
        canvas.height = height
        const g = canvas.getContext('2d')
        const pixels = g.createImageData(canvas.width, canvas.height)
        for (let i = 0; i < pixels.data.length; i += 4) {
          seed = (seed * 1103515245 + 12345) % 2147483648
          pixels.data[i] = seed & 255
          pixels.data[i + 1] = (seed >> 8) & 255
          pixels.data[i + 2] = (seed >> 16) & 255
          pixels.data[i + 3] = 255
        }
        g.putImageData(pixels, 0, 0)
        const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85))
        const bytes = new Uint8Array(await blob.arrayBuffer())
        let binary = ''
        for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
        out.push({ name: `${prefix}-${n + 1}.jpg`, base64: btoa(binary) })
      }
      return out
    },
    { prefix, count, width, height },
  )
  return made.map(({ name, base64 }) => ({ name, mimeType: 'image/jpeg', buffer: Buffer.from(base64, 'base64') }))
}

/** Captions of the album's photos, as its owner sees them. */
async function captionsIn(page, albumId) {
  const captions = []
  let cursor = null
  do {
    const page_ = await api(page, 'GET', `/api/v1/albums/${albumId}/photos?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    captions.push(...page_.items.map((p) => p.caption))
    cursor = page_.next_cursor
  } while (cursor)
  return captions.sort()
}

/** Asks `read` until `done` says yes of what it gave, or `ms` pass; resolves with the last answer. */
async function pollFor(read, done, { ms = 10_000, every = 100 } = {}) {
  let value = await read()
  for (const started = Date.now(); !done(value) && Date.now() - started < ms; ) {
    await new Promise((resolve) => setTimeout(resolve, every))
    value = await read()
  }
  return value
}

/**
 * The rows of `stores` in the site's IndexedDB (the upload queue's), read in `page`
 * and awaited from here (a polling `waitForFunction` would not await the page's
 * promise); null when they cannot be read.
 */
function keptRows(page, stores) {
  return page.evaluate(
    (stores) =>
      new Promise((resolve) => {
        const open = indexedDB.open('pujo')
        open.onerror = () => resolve(null)
        open.onsuccess = () => {
          const db = open.result
          try {
            const tx = db.transaction(stores)
            const reads = stores.map((name) => tx.objectStore(name).getAll())
            tx.oncomplete = () => (db.close(), resolve(reads.map((r) => r.result)))
            tx.onabort = () => (db.close(), resolve(null))
          } catch {
            db.close()
            resolve(null)
          }
        }
      }),
    stores,
  )
}

/** Takes the network away, picks `photos` with a caption each and presses Upload: all of them wait, paused. */
async function pickOffline(context, tab, photos) {
  await context.setOffline(true)
  await tab.locator('input[type=file]').setInputFiles(photos)
  for (const p of photos) await tab.getByLabel(`Caption for ${p.name}`).fill(`Caption of ${p.name}`)
  await tab.getByRole('button', { name: `Upload ${photos.length} photos` }).click()
  const n = photos.length
  await tab.waitForFunction((n) => document.querySelectorAll('.upload-item--paused').length === n, n, { timeout: 10_000 })
  // The page shows a state before IndexedDB has it: what closes the tab or the browser next
  // must find it kept (a person takes longer than this between pressing Upload and leaving).
  const paused = (rows) => rows?.[0].filter((row) => row.status === 'paused').length ?? -1
  const kept = paused(await pollFor(() => keptRows(tab, ['uploads']), (rows) => paused(rows) === n))
  assert(kept === n, `IndexedDB holds ${kept} of the ${n} files as paused`)
}

const pending = '.upload-item--queued, .upload-item--uploading, .upload-item--ready, .upload-item--paused'
/** Waits until no file on the page is on its way; a timeout says what each one shows. */
async function allSettled(page) {
  try {
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 0, pending, { timeout: 90_000 })
  } catch (err) {
    const shown = await page
      .locator('.upload-item')
      .evaluateAll((items) => items.map((i) => `${i.className.replace('upload-item ', '')}: ${i.textContent}`))
      .catch(() => [])
    throw new Error(`${err.message.split('\n')[0]} The queue shows: ${shown.join(' | ')}`)
  }
}

await h.step('the site installs (manifest, icons, service worker) and opens offline', async () => {
  const context = await browser.newContext(CONTEXT)
  context.setDefaultTimeout(15_000)
  const page = h.watch(await context.newPage(), 'install')
  try {
    await page.goto(url('/'))
    const manifestHref = await page.locator('link[rel=manifest]').getAttribute('href')
    const manifest = await page.evaluate(async (href) => {
      const response = await fetch(href)
      return { type: response.headers.get('content-type'), body: await response.json() }
    }, manifestHref)
    assert(manifest.type === 'application/manifest+json', `the manifest came as ${manifest.type}`)
    assert(manifest.body.start_url === '/' && manifest.body.display === 'standalone', JSON.stringify(manifest.body))
    const icons = manifest.body.icons.map((i) => i.src)
    for (const src of icons) {
      const type = await page.evaluate(async (src) => {
        const response = await fetch(src)
        return response.ok ? response.headers.get('content-type') : `HTTP ${response.status}`
      }, src)
      assert(type === 'image/png' || type === 'image/svg+xml', `${src}: ${type}`)
    }
    assert(manifest.body.icons.some((i) => i.purpose === 'maskable' && i.sizes === '512x512'), 'no 512 px maskable icon')
    // The service worker takes the page over, and the page keeps the shell in its cache.
    const shellKept = () =>
      page.evaluate(async () => {
        if (!navigator.serviceWorker.controller) return 0
        for (const name of await caches.keys()) {
          if (!name.startsWith('pujo-shell-')) continue
          const paths = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname)
          if (paths.includes('/')) return paths.length
        }
        return 0
      })
    const kept = await pollFor(shellKept, (files) => files > 0, { ms: 20_000 })
    assert(kept > 10, `the shell was not kept: ${kept} files`)
    await context.setOffline(true)
    const response = await page.goto(url('/pandals'))
    assert(response?.fromServiceWorker(), 'the offline page did not come from the service worker')
    await page.getByRole('navigation', { name: 'Main' }).waitFor()
    await page.getByRole('heading', { level: 1 }).waitFor()
    await context.setOffline(false)
    return `${icons.length} icons; ${kept} files kept; /pandals opened offline from the shell`
  } finally {
    await context.close()
  }
})

// Playwright's routes do not see what a service worker answers: this context has none.
const context = await browser.newContext({ ...CONTEXT, serviceWorkers: 'block' })
context.setDefaultTimeout(15_000)
const page = h.watch(await context.newPage(), 'resume')

await h.step('an account and a private album, through the API', async () => {
  await page.goto(url('/'))
  const proof = solveProof(await api(page, 'GET', '/api/v1/proof?for=register'))
  await api(
    page,
    'POST',
    '/api/v1/auth/register',
    { username: ACCOUNT.username, email: `${ACCOUNT.username}@example.test`, password: ACCOUNT.password },
    { 'X-Pujo-Proof': proof },
  )
  const album = await api(page, 'POST', '/api/v1/albums', { title: 'Queued through the storm', visibility: 'private' })
  h.set('album', album.id)
  return `album ${album.id}`
})

await h.step(
  'five photos: offline, online, reloaded mid-upload; each arrives once',
  async () => {
    const albumId = h.state.album
    // Every tus request, in order, with what the page was at the time.
    const log = []
    let phase = 'first load'
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/v1/uploads')) {
        log.push({ phase, method: r.method(), offset: r.headers()['upload-offset'] ?? null })
      }
    })
    // Every answer that named a photo: a file sent twice would be named twice by a PATCH
    // (Pujo answers the same bytes in one album with the photo it already has).
    const named = []
    page.on('response', (r) => {
      const photo = r.headers()['pujo-photo-id']
      if (photo && new URL(r.url()).pathname.startsWith('/api/v1/uploads/')) named.push({ method: r.request().method(), photo })
    })
    let firstChunk
    const chunkSeen = new Promise((resolve) => (firstChunk = resolve))
    await context.route('**/api/v1/uploads/*', async (route) => {
      if (route.request().method() === 'PATCH') {
        firstChunk()
        await new Promise((resolve) => setTimeout(resolve, HOLD_MS))
      }
      // The page may have gone offline or reloaded meanwhile: then this request is gone.
      await route.continue().catch(() => undefined)
    })

    await page.goto(url(`/upload?album=${albumId}`))
    const photos = await noisyPhotos(page, 'storm', 5)
    const smallest = Math.min(...photos.map((p) => p.buffer.length))
    assert(smallest > 1024 * 1024, `a test photo is only ${smallest} bytes: not more than one chunk`)
    await page.locator('input[type=file]').setInputFiles(photos)
    for (const p of photos) await page.getByLabel(`Caption for ${p.name}`).fill(`Caption of ${p.name}`)
    await page.getByRole('button', { name: 'Upload 5 photos' }).click()

    await chunkSeen
    phase = 'offline'
    await context.setOffline(true)
    await page.waitForFunction(() => document.querySelectorAll('.upload-item--paused').length === 5, null, { timeout: 10_000 })
    const paused = await page.locator('.upload-item__status').allTextContents()
    assert(paused.every((s) => s.includes('waiting for the network')), `statuses offline: ${paused.join(' | ')}`)
    const summary = (await page.locator('.upload-summary').textContent()) ?? ''
    assert(summary.endsWith('5 waiting for the network.'), `summary offline: ${summary}`)

    // Back online: the queue goes by itself; reload as soon as a file is part way.
    phase = 'online'
    const partWay = page.waitForResponse(
      (r) =>
        r.request().method() === 'PATCH' &&
        r.status() === 204 &&
        !r.headers()['pujo-photo-id'] &&
        Number(r.headers()['upload-offset']) < Number(r.headers()['upload-length']),
      { timeout: 30_000 },
    )
    await context.setOffline(false)
    await partWay
    phase = 'reloaded'
    await page.reload()
    await page.getByRole('list', { name: 'Photos to upload' }).waitFor()
    const back = await page.locator('.upload-item').count()
    assert(back > 0, 'no file came back after the reload')
    await allSettled(page)
    const after = (await page.locator('.upload-summary').textContent()) ?? ''
    const errors = await page.locator('.upload-item__error').allTextContents()
    assert(after === `${back} of ${back} uploaded, 0 uploading, 0 failed.`, `after the reload: ${after} ${errors.join(' | ')}`)

    const resumed = log.filter((r) => r.phase === 'reloaded')
    assert(resumed.some((r) => r.method === 'HEAD'), `no HEAD after the reload: ${JSON.stringify(resumed)}`)
    assert(
      resumed.some((r) => r.method === 'PATCH' && Number(r.offset) > 0),
      `no PATCH went on from an offset after the reload: ${JSON.stringify(resumed)}`,
    )
    const captions = await captionsIn(page, albumId)
    const expected = photos.map((p) => `Caption of ${p.name}`).sort()
    assert(JSON.stringify(captions) === JSON.stringify(expected), `the album holds ${JSON.stringify(captions)}`)
    const finishedBy = named.filter((n) => n.method === 'PATCH').map((n) => n.photo)
    assert(finishedBy.length <= 5 && new Set(finishedBy).size === finishedBy.length, `photos finished by a PATCH: ${finishedBy.join(', ')}`)
    assert(new Set(named.map((n) => n.photo)).size === 5, `photos named: ${JSON.stringify(named)}`)
    await context.unroute('**/api/v1/uploads/*')
    const creates = log.filter((r) => r.method === 'POST').length
    return `${back} came back after the reload; ${log.length} tus requests (${creates} creates); 5 photos, once each`
  },
  { needs: ['album'], timeout: 150_000 },
)
await context.close()

await h.step(
  'photos picked offline wait through a restart of the browser',
  async () => {
    const albumId = h.state.album
    const profile = mkdtempSync(join(tmpdir(), 'pujo-e2e-profile-'))
    const launch = () =>
      chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: FLAGS, headless: true, timeout: 30_000, ...CONTEXT })
    try {
      let browserContext = await launch()
      let tab = h.watch(browserContext.pages()[0] ?? (await browserContext.newPage()), 'restart (before)')
      await tab.goto(url('/'))
      await api(tab, 'POST', '/api/v1/auth/login', { login: ACCOUNT.username, password: ACCOUNT.password })
      await tab.goto(url(`/upload?album=${albumId}`))
      const photos = await noisyPhotos(tab, 'restart', 2)
      await pickOffline(browserContext, tab, photos)
      await browserContext.close()

      browserContext = await launch()
      tab = h.watch(browserContext.pages()[0] ?? (await browserContext.newPage()), 'restart (after)')
      await tab.goto(url('/'))
      const session = await api(tab, 'GET', '/api/v1/auth/session')
      if (!session.user) await api(tab, 'POST', '/api/v1/auth/login', { login: ACCOUNT.username, password: ACCOUNT.password })
      await tab.goto(url(`/upload?album=${albumId}`))
      await tab.getByRole('list', { name: 'Photos to upload' }).waitFor()
      const names = await tab.locator('.upload-item__name span:first-child').allTextContents()
      assert(JSON.stringify(names) === JSON.stringify(photos.map((p) => p.name)), `after the restart the queue holds ${JSON.stringify(names)}`)
      await allSettled(tab)
      const summary = (await tab.locator('.upload-summary').textContent()) ?? ''
      assert(summary === '2 of 2 uploaded, 0 uploading, 0 failed.', summary)
      const captions = await captionsIn(tab, albumId)
      assert(captions.length === 7, `the album holds ${captions.length} photos, not 5 + 2: ${JSON.stringify(captions)}`)
      await browserContext.close()
      return `${names.join(', ')} sent after the restart`
    } finally {
      rmSync(profile, { recursive: true, force: true })
    }
  },
  { needs: ['album'], timeout: 120_000 },
)

await h.step(
  'photos queued offline go from the service worker (Background Sync) with every tab closed',
  async () => {
    // Notifications allowed beforehand (the worker never asks): it says what it sent. (Granting
    // one permission refuses the others Playwright knows, so Background Sync is named too.)
    const swContext = await browser.newContext({ ...CONTEXT, permissions: ['notifications', 'background-sync'] })
    swContext.setDefaultTimeout(15_000)
    // Every tus request, and who made it: a page, or the service worker.
    const tus = []
    swContext.on('request', (r) => {
      const path = new URL(r.url()).pathname
      if (!path.startsWith('/api/v1/uploads')) return
      const headers = r.headers()
      tus.push({ by: r.serviceWorker() ? 'worker' : 'page', method: r.method(), checksum: headers['upload-checksum'] ?? null, pages: swContext.pages().length })
    })
    // What came of them, for the failure message.
    const answers = []
    swContext.on('requestfinished', async (r) => {
      if (!new URL(r.url()).pathname.startsWith('/api/v1/')) return
      answers.push(`${r.serviceWorker() ? 'worker' : 'page'} ${r.method()} ${new URL(r.url()).pathname} ${(await r.response())?.status()}`)
    })
    swContext.on('requestfailed', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/v1/')) answers.push(`${r.serviceWorker() ? 'worker' : 'page'} ${r.method()} ${new URL(r.url()).pathname} ${r.failure()?.errorText}`)
    })
    // The worker's own console (a refused connection under its CSP would be an error there).
    swContext.on('console', (msg) => {
      if (!msg.page() && /Content Security Policy|Refused to/i.test(msg.text())) h.problems.push(`service worker: ${msg.text().slice(0, 240)}`)
    })
    try {
      let tab = h.watch(await swContext.newPage(), 'background sync (before)')
      await tab.goto(url('/'))
      await api(tab, 'POST', '/api/v1/auth/login', { login: ACCOUNT.username, password: ACCOUNT.password })
      const album = await api(tab, 'POST', '/api/v1/albums', { title: 'Sent with no tab open', visibility: 'private' })
      await tab.goto(url(`/upload?album=${album.id}`))
      // The worker is registered a few seconds after load: the sync is asked of it.
      await tab.evaluate(() => navigator.serviceWorker.ready.then(() => undefined))
      const photos = await noisyPhotos(tab, 'nobody-home', 3)

      await pickOffline(swContext, tab, photos)
      // The page asks for the sync as it pauses the files (a moment after they show paused).
      const syncAsked = () => tab.evaluate(async () => (await navigator.serviceWorker.ready).sync.getTags())
      const tags = await pollFor(syncAsked, (tags) => tags.includes('pujo-uploads'), { ms: 5_000 })
      assert(tags.includes('pujo-uploads'), `sync tags: ${JSON.stringify(tags)}`)

      // Every page goes; the context (its cookie, its service worker) stays.
      for (const p of swContext.pages()) await p.close()
      assert(swContext.pages().length === 0, 'a page is still open')
      const before = tus.length
      await swContext.setOffline(false)

      // Ask Pujo, with the context's cookie and no page, until the three are there.
      const captionsNow = async () => {
        const response = await swContext.request.get(url(`/api/v1/albums/${album.id}/photos?limit=100`), { headers: { Accept: 'application/json' } })
        assert(response.ok(), `album photos: ${response.status()}`)
        return (await response.json()).items.map((p) => p.caption).sort()
      }
      let captions = await pollFor(captionsNow, (captions) => captions.length >= 3, { ms: 60_000, every: 250 })
      assert(swContext.pages().length === 0, 'a page opened while the photos went')
      // Once each: nothing more comes after a while either.
      await new Promise((resolve) => setTimeout(resolve, 1500))
      captions = await captionsNow()
      const expected = photos.map((p) => `Caption of ${p.name}`).sort()
      assert(JSON.stringify(captions) === JSON.stringify(expected), `the album holds ${JSON.stringify(captions)}; requests: ${answers.slice(-12).join(', ')}`)
      const sent = tus.slice(before)
      assert(sent.length > 0 && sent.every((r) => r.by === 'worker' && r.pages === 0), `tus requests with the tabs closed: ${JSON.stringify(sent)}`)
      const patches = sent.filter((r) => r.method === 'PATCH')
      assert(patches.length >= 6 && patches.every((r) => /^sha256 /.test(r.checksum ?? '')), `the worker's PATCHes: ${JSON.stringify(patches)}`)

      // A tab opened now shows what the worker recorded: each file done, with its photo.
      tab = h.watch(await swContext.newPage(), 'background sync (after)')
      await tab.goto(url(`/upload?album=${album.id}`))
      await tab.getByRole('list', { name: 'Photos to upload' }).waitFor()
      const summary = (await tab.locator('.upload-summary').textContent()) ?? ''
      assert(summary === '3 of 3 uploaded, 0 uploading, 0 failed.', `the reopened tab says: ${summary}`)
      assert((await tab.getByRole('link', { name: 'View' }).count()) === 3, 'the reopened tab does not link the three photos')
      // Shown once: the queue forgets them (and their resume addresses) now.
      const counts = (rows) => rows?.map((r) => r.length) ?? [-1, -1]
      const kept = counts(await pollFor(() => keptRows(tab, ['uploads', 'resume']), (rows) => counts(rows).every((c) => c === 0)))
      assert(kept[0] === 0 && kept[1] === 0, `still kept after the tab showed them: ${kept[0]} files, ${kept[1]} addresses`)
      const notes = await tab.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications({ tag: 'pujo-uploads' })).map((n) => `${n.title}: ${n.body}`),
      )
      assert(JSON.stringify(notes) === JSON.stringify(['Pujo: 3 photos uploaded.']), `notifications: ${JSON.stringify(notes)}`)
      const creates = sent.filter((r) => r.method === 'POST').length
      return `3 photos sent by the service worker with no tab open (${sent.length} tus requests, ${creates} creates, ${patches.length} PATCHes); notified; the reopened tab showed them done`
    } finally {
      await swContext.close()
    }
  },
  { needs: ['album'], timeout: 150_000 },
)

/** An APP1 EXIF segment (big-endian): DateTimeOriginal, OffsetTimeOriginal and a GPS position, as a phone writes them. */
function phoneExif({ takenAt, offset, lat, lon }) {
  const b = []
  const u16 = (v) => b.push((v >> 8) & 255, v & 255)
  const u32 = (v) => b.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255)
  const entry = (tag, type, count, value) => (u16(tag), u16(type), u32(count), u32(value))
  const text = (t) => [...t].forEach((c) => b.push(c.charCodeAt(0)))
  const dms = (deg) => [Math.floor(deg), Math.floor((deg % 1) * 60), Math.round((((deg % 1) * 60) % 1) * 6000)]
  // IFD0 at 8 (2 entries: 38 bytes) -> Exif IFD at 38 (2 entries: 30) -> date at 68, offset at 88
  // -> GPS IFD at 96 (4 entries: 54) -> latitude at 150, longitude at 174.
  b.push(0x4d, 0x4d), u16(42), u32(8)
  u16(2), entry(0x8769, 4, 1, 38), entry(0x8825, 4, 1, 96), u32(0)
  u16(2), entry(0x9003, 2, 20, 68), entry(0x9011, 2, 7, 88), u32(0)
  text(takenAt), b.push(0)
  text(offset), b.push(0, 0)
  u16(4), entry(0x0001, 2, 2, 0x4e000000), entry(0x0002, 5, 3, 150), entry(0x0003, 2, 2, 0x45000000), entry(0x0004, 5, 3, 174), u32(0)
  const [ld, lm, ls] = dms(lat)
  const [od, om, os] = dms(lon)
  for (const [n, d] of [[ld, 1], [lm, 1], [ls, 100], [od, 1], [om, 1], [os, 100]]) u32(n), u32(d)
  const body = [0x45, 0x78, 0x69, 0x66, 0, 0, ...b]
  return Buffer.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 255, ...body])
}

await h.step(
  'data saver: a 2048 px copy goes, with the date taken and the position the owner shows',
  async () => {
    const albumId = h.state.album
    const saverContext = await browser.newContext(CONTEXT)
    saverContext.setDefaultTimeout(15_000)
    const tab = h.watch(await saverContext.newPage(), 'data saver')
    try {
      await tab.goto(url('/'))
      await api(tab, 'POST', '/api/v1/auth/login', { login: ACCOUNT.username, password: ACCOUNT.password })
      await api(tab, 'PATCH', '/api/v1/me', { gps_privacy: 'coarse' })
      await tab.goto(url(`/upload?album=${albumId}`))
      const [noise] = await noisyPhotos(tab, 'saver', 1, { width: 3000, height: 2000 })
      const exif = phoneExif({ takenAt: '2025:10:01 19:45:10', offset: '+05:30', lat: 22.5742, lon: 88.365 })
      const original = Buffer.concat([noise.buffer.subarray(0, 2), exif, noise.buffer.subarray(2)])
      await tab.getByRole('checkbox', { name: 'Data saver: send smaller copies' }).check()
      await tab.locator('input[type=file]').setInputFiles([{ name: 'saver.jpg', mimeType: 'image/jpeg', buffer: original }])
      await tab.getByText(/\(the original is [\d.]+ MB\)/).waitFor()
      const saved = (await tab.locator('.upload-saved').textContent()) ?? ''
      assert(/^The data saver kept [\d.]+ (MB|KB) off the network\.$/.test(saved), `saved: ${saved}`)
      await tab.getByLabel('Caption for saver.jpg').fill('Caption of saver.jpg')
      await tab.getByRole('button', { name: 'Upload 1 photo' }).click()
      await allSettled(tab)
      const summary = (await tab.locator('.upload-summary').textContent()) ?? ''
      assert(summary === '1 of 1 uploaded, 0 uploading, 0 failed.', summary)
      const href = await tab.getByRole('link', { name: 'View' }).getAttribute('href')
      const photo = await api(tab, 'GET', `/api/v1${href}`)
      assert(Math.max(photo.width, photo.height) === 2048 && Math.min(photo.width, photo.height) === 1365, `the copy is ${photo.width} × ${photo.height}`)
      assert(photo.taken_at && Date.parse(photo.taken_at) === Date.parse('2025-10-01T19:45:10+05:30'), `taken_at ${photo.taken_at}`)
      assert(photo.location && Math.abs(photo.location.lat - 22.57) < 0.1 && Math.abs(photo.location.lon - 88.37) < 0.1, `location ${JSON.stringify(photo.location)}`)
      return `a ${Math.round(original.length / 1024)} KB original went as a ${photo.width} × ${photo.height} copy; ${saved}`
    } finally {
      await saverContext.close()
    }
  },
  { needs: ['album'], timeout: 90_000 },
)

await h.step('no CSP violations or uncaught errors while resuming', async () => {
  assert(h.problems.length === 0, h.problems.slice(0, 10).join('\n'))
})

await browser.close()
const ok = h.summary(join(ARTIFACTS, 'resume-results.json'))
process.exit(ok ? 0 : 1)
