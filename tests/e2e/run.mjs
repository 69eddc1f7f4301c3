/**
 * Pujo end to end, in Debian's Chromium against a running pujo binary:
 *
 *   register -> create an album -> upload three generated JPEGs, watching each
 *   file's progress bar -> thumbnails appear -> lightbox, arrow through ->
 *   like and comment -> a private album -> search, settings -> log out ->
 *   an anonymous visitor sees the public album and "not found" for the
 *   private one -> log in again -> Bengali.
 *
 * axe-core checks every page on the way (serious or critical violations
 * fail), the home page's largest contentful paint is measured on loopback, and
 * Lighthouse scores the home and a photo page. Screenshots for the README go
 * to docs/screenshots/.
 *
 * Started by scripts/e2e.sh, which starts the server and sets:
 *   E2E_BASE_URL     where pujo listens, e.g. http://127.0.0.1:41234
 *   E2E_ARTIFACTS    folder for failure screenshots, axe and Lighthouse reports
 *   E2E_SCREENSHOTS  folder for the README's screenshots and lighthouse.json
 *   E2E_PANDAL       the name of a pandal that exists before the run
 *   E2E_BINARY       what is being tested, for the record (`pujo version`)
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { axeCheck } from './lib/axe.mjs'
import { CHROMIUM, CHROMIUM_FLAGS } from './lib/chromium.mjs'
import { Harness, assert } from './lib/harness.mjs'
import { runLighthouse } from './lib/lighthouse.mjs'
import { makePhotos } from './lib/photos.mjs'

const BASE = process.env.E2E_BASE_URL
const ARTIFACTS = process.env.E2E_ARTIFACTS
const SCREENSHOTS = process.env.E2E_SCREENSHOTS
const PANDAL = process.env.E2E_PANDAL ?? ''
const BINARY = process.env.E2E_BINARY ?? ''
if (!BASE || !ARTIFACTS || !SCREENSHOTS) {
  console.error('run through scripts/e2e.sh (E2E_BASE_URL, E2E_ARTIFACTS and E2E_SCREENSHOTS are unset)')
  process.exit(2)
}
mkdirSync(SCREENSHOTS, { recursive: true })

/**
 * What Lighthouse may decide. Accessibility and best practices are audits of the page
 * itself (the same page scores the same on any machine): both held to MIN_SCORE on
 * both form factors. Performance scores move with the machine's speed (92 to 98 for
 * the same build on this 2-core machine), so they never decide whether a change lands:
 * they are recorded (lighthouse.json, docs/BENCHMARKS.md) and the run holds instead
 * the performance audits whose outcome does not depend on timing (DETERMINISTIC).
 */
const MIN_SCORE = 95
const GATED = {
  desktop: ['accessibility', 'best-practices'],
  mobile: ['accessibility', 'best-practices'],
}
/** Audits that pass or fail by what the page is, not how fast the machine ran it. */
const DETERMINISTIC = ['errors-in-console', 'lcp-lazy-loaded', 'uses-text-compression', 'unsized-images']
const LCP_BUDGET_MS = 1500
/** Uploads are slowed to this (bytes/s) so each bar's progress can be watched. */
const UPLOAD_THROUGHPUT = 400 * 1024

const ACCOUNT = {
  username: `e2e_${Date.now().toString(36)}`,
  password: 'shiuli-phool-2026',
  displayName: 'Pujo Tester',
}
const PUBLIC_ALBUM = 'Kumartuli to Bagbazar, Saptami night'
const PRIVATE_ALBUM = 'Family only: Ashtami anjali'
const COMMENT = 'অসাধারণ প্রতিমা! What a pandal.'
const DESKTOP = { width: 1280, height: 800 }

const url = (path) => new URL(path, BASE).toString()

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: CHROMIUM_FLAGS.filter((f) => f !== '--headless'),
  headless: true,
  timeout: 30_000,
})
const CHROMIUM_VERSION = browser.version()
const h = new Harness({ artifacts: ARTIFACTS, browser })
console.log(`chromium ${CHROMIUM_VERSION}, ${BASE}, artifacts in ${ARTIFACTS}`)

async function newPage(who, options = {}) {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-IN', ...options })
  context.setDefaultTimeout(10_000)
  context.setDefaultNavigationTimeout(20_000)
  return h.watch(await context.newPage(), who)
}

/** Every axe check is its own line in the summary. */
const axeSeen = []
async function axe(page, label) {
  return h.step(`axe: ${label}`, async () => {
    const { blocking, other } = await axeCheck(page, label, ARTIFACTS)
    axeSeen.push({ page: label, url: page.url(), serious_or_critical: blocking, moderate_or_minor: other })
    assert(blocking.length === 0, blocking.join('\n'))
    return other.length > 0 ? `${other.length} moderate/minor: ${other.join('; ')}` : 'no violations'
  })
}

const heading = (page) => page.getByRole('heading', { level: 1 })
const nextPaint = (page) => page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))))
/** Screenshots wait for transitions (a fade-in) to finish. */
const settled = (page) => page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'), null, { timeout: 5_000 })
const nav = (page) => page.getByRole('navigation', { name: 'Main' })
const upTo = (n) => Array.from({ length: n }, (_, i) => i)

/** Resolves when `count` images match `selector` and all have loaded real pixels (not just the placeholder). */
async function imagesLoaded(page, selector, count) {
  await page.waitForFunction(
    ({ selector, count }) => {
      const imgs = [...document.querySelectorAll(selector)]
      return imgs.length === count && imgs.every((img) => img.complete && img.naturalWidth > 0)
    },
    { selector, count },
    { timeout: 15_000 },
  )
}

// ------------------------------------------------------------------ anonymous first look
const owner = await newPage('owner')

await h.step('home page renders under the server CSP', async () => {
  const response = await owner.goto(url('/'))
  const csp = response?.headers()['content-security-policy'] ?? ''
  assert(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), `unexpected CSP: ${csp}`)
  await heading(owner).filter({ hasText: 'Durga Puja, one pandal at a time' }).waitFor()
  await owner.getByRole('link', { name: 'Log in', exact: true }).waitFor()
  h.set('home', true)
})

// In a context of its own: a blank page here must not stop the rest of the flow. The page
// is left open when it fails, so the failure screenshots show it.
await h.step(
  'a reloaded page still renders (its revalidation keeps the page CSP)',
  async () => {
    const page = await newPage('reload')
    const first = await page.goto(url('/'))
    await heading(page).filter({ hasText: 'Durga Puja, one pandal at a time' }).waitFor()
    await page.reload()
    const rendered = await heading(page)
      .filter({ hasText: 'Durga Puja, one pandal at a time' })
      .waitFor()
      .then(() => true)
      .catch(() => false)
    if (!rendered) {
      // Chromium merges a 304's headers into the cached page, so a CSP on the 304 replaces the page's own.
      const again = await page.request.get(url('/'), {
        headers: { 'If-None-Match': first?.headers().etag ?? '', 'Accept-Encoding': (await first?.request().headerValue('accept-encoding')) ?? 'br' },
      })
      throw new Error(`the page is blank after a reload; GET / with If-None-Match answers ${again.status()} with CSP "${again.headers()['content-security-policy']}"`)
    }
    await page.context().close()
  },
  { needs: ['home'] },
)

await axe(owner, 'home (anonymous, empty)')

await h.step('pandals page lists the pandal made before the run', async () => {
  await nav(owner).getByRole('link', { name: 'Pandals' }).click()
  await heading(owner).filter({ hasText: 'Pandals' }).waitFor()
  if (PANDAL) await owner.getByRole('link', { name: PANDAL }).first().waitFor()
})
await axe(owner, 'pandals')

// ------------------------------------------------------------------ register
await h.step('register an account', async () => {
  await owner.getByRole('link', { name: 'Register', exact: true }).click()
  await heading(owner).filter({ hasText: 'Register' }).waitFor()
  await axe(owner, 'register')
  await owner.getByLabel('Username').fill(ACCOUNT.username)
  await owner.getByLabel('Email').fill(`${ACCOUNT.username}@example.test`)
  await owner.getByLabel('Password', { exact: true }).fill(ACCOUNT.password)
  await owner.getByLabel('Display name (optional)').fill(ACCOUNT.displayName)
  await owner.getByRole('button', { name: 'Create account' }).click()
  await owner.getByRole('link', { name: `Your profile: ${ACCOUNT.displayName}` }).waitFor()
  await owner.getByRole('button', { name: 'Log out' }).waitFor()
  h.set('account', ACCOUNT)
  return ACCOUNT.username
})

// ------------------------------------------------------------------ album and upload
await h.step(
  'create a public album from the upload page',
  async () => {
    await nav(owner).getByRole('link', { name: 'Upload' }).click()
    await heading(owner).filter({ hasText: 'Upload' }).waitFor()
    await axe(owner, 'upload (empty)')
    await owner.getByLabel('Upload to').selectOption('new')
    const form = owner.getByRole('form', { name: 'New album' })
    await form.getByLabel('Title').fill(PUBLIC_ALBUM)
    await form.getByLabel('Description').fill('Made by the end-to-end test.')
    await form.getByLabel('Who can see it').selectOption('public')
    if (PANDAL) {
      const option = form.getByLabel('Pandal').locator('option', { hasText: PANDAL })
      await option.waitFor({ state: 'attached' })
      await form.getByLabel('Pandal').selectOption((await option.getAttribute('value')) ?? '')
    }
    await form.getByRole('button', { name: 'Create album' }).click()
    await owner.waitForURL(/[?&]album=\d+/)
    const albumId = Number(new URL(owner.url()).searchParams.get('album'))
    assert(albumId > 0, `no album id in ${owner.url()}`)
    const chosen = await owner.getByLabel('Upload to').evaluate((s) => s.selectedOptions[0]?.textContent)
    assert(chosen === PUBLIC_ALBUM, `the upload page chose "${chosen}", not the new album`)
    h.set('publicAlbum', albumId)
    return `album ${albumId}`
  },
  { needs: ['account'] },
)

await h.step(
  'upload three generated JPEGs, watching each progress bar',
  async () => {
    const photos = await makePhotos(owner)
    await owner.locator('input[type=file]').setInputFiles(photos.map(({ name, mimeType, buffer }) => ({ name, mimeType, buffer })))
    const list = owner.getByRole('list', { name: 'Photos to upload' })
    await list.getByRole('listitem').nth(2).waitFor()
    assert((await list.getByRole('listitem').count()) === 3, 'the three files are not all listed')
    for (const p of photos) await owner.getByLabel(`Caption for ${p.name}`).fill(p.label)
    // Previews are blob: URLs (allowed by img-src blob:); they must draw.
    await imagesLoaded(owner, '.upload-item__preview', 3)
    await axe(owner, 'upload (three files ready)')

    // Slow the upload so the bars move through real values, and record every value each bar shows.
    const cdp = await owner.context().newCDPSession(owner)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: UPLOAD_THROUGHPUT })
    await owner.evaluate(() => {
      const seen = {}
      window.__progress = seen
      const tick = () => {
        for (const bar of document.querySelectorAll('progress')) {
          const values = (seen[bar.getAttribute('aria-label')] ??= [])
          if (values[values.length - 1] !== bar.value) values.push(bar.value)
        }
        window.__progressFrame = requestAnimationFrame(tick)
      }
      tick()
    })
    await owner.getByRole('button', { name: 'Upload 3 photos' }).click()
    // The README's upload screenshot: mid-upload, bars part filled.
    await owner.getByRole('heading', { name: '2. Photos' }).evaluate((el) => el.scrollIntoView({ block: 'start' }))
    const moving = await owner
      .waitForFunction(() => [...document.querySelectorAll('progress')].some((b) => b.value >= 15 && b.value <= 85), null, { timeout: 15_000 })
      .then(() => true)
      .catch(() => false)
    if (moving) h.set('uploadShot', await owner.screenshot({ animations: 'disabled' }))
    // Done when no file is waiting or uploading any more; then all three must have made it.
    await owner.waitForFunction(() => document.querySelectorAll('.upload-item--queued, .upload-item--uploading, .upload-item--ready, .upload-item--paused').length === 0, null, {
      timeout: 60_000,
    })
    const summary = (await owner.locator('.upload-summary').textContent()) ?? ''
    const errors = await owner.locator('.upload-item__error').allTextContents()
    assert(summary === '3 of 3 uploaded, 0 uploading, 0 failed.', `${summary} ${errors.join(' | ')}`)
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
    await cdp.detach()
    const progress = await owner.evaluate(() => {
      cancelAnimationFrame(window.__progressFrame)
      return window.__progress
    })
    for (const p of photos) {
      const values = progress[`Upload progress of ${p.name}`] ?? []
      assert(values.at(-1) === 100, `${p.name}'s bar ended at ${values.at(-1)}: ${values.join(' ')}`)
      assert(values.some((v) => v > 0 && v < 100), `${p.name}'s bar never showed progress between 0 and 100: ${values.join(' ')}`)
    }
    const statuses = await owner.locator('.upload-item__status').allTextContents()
    assert(statuses.length === 3 && statuses.every((s) => s.startsWith('Uploaded.')), `statuses: ${statuses.join(' | ')}`)
    if (!h.state.uploadShot) {
      await owner.getByRole('heading', { name: '2. Photos' }).evaluate((el) => el.scrollIntoView({ block: 'start' }))
      h.set('uploadShot', await owner.screenshot())
    }
    await axe(owner, 'upload (done)')
    h.set('uploaded', photos)
    return photos.map((p) => `${p.name} ${Math.round(p.buffer.length / 1024)} KB: ${progress[`Upload progress of ${p.name}`].join('→')}%`).join('; ')
  },
  { needs: ['publicAlbum'], timeout: 120_000 },
)

await h.step(
  'the album shows the three thumbnails',
  async () => {
    await owner.getByRole('link', { name: 'See the album' }).click()
    await heading(owner).filter({ hasText: PUBLIC_ALBUM }).waitFor()
    await owner.getByText('3 photos').first().waitFor()
    const grid = owner.getByRole('list', { name: 'Photos in this album' })
    await grid.getByRole('listitem').nth(2).waitFor()
    await imagesLoaded(owner, '.jgrid img', 3)
    const sources = await owner.locator('.jgrid img').evaluateAll((imgs) => imgs.map((i) => i.currentSrc))
    assert(sources.every((s) => new URL(s).pathname.startsWith('/media/')), `thumbnails not served from /media: ${sources.join(' ')}`)
    const ids = await grid.getByRole('link').evaluateAll((links) => links.map((a) => Number(a.dataset.photoId)))
    h.set('photoIds', ids)
    await axe(owner, 'album (owner)')
    return `photos ${ids.join(', ')}`
  },
  { needs: ['uploaded'] },
)

await h.step(
  'the lightbox opens and the arrow keys move through the album',
  async () => {
    const grid = owner.getByRole('list', { name: 'Photos in this album' })
    await grid.getByRole('link').first().click()
    const dialog = owner.getByRole('dialog', { name: 'Photo viewer' })
    await dialog.waitFor()
    const shown = async (n) => {
      await dialog.getByText(`Photo ${n} of 3`).waitFor()
      await imagesLoaded(owner, '.lightbox img', 1)
      return dialog.locator('img').evaluate((img) => img.currentSrc)
    }
    const seen = [await shown(1)]
    await axe(owner, 'lightbox')
    await owner.keyboard.press('ArrowRight')
    seen.push(await shown(2))
    await owner.keyboard.press('ArrowRight')
    seen.push(await shown(3))
    assert(new Set(seen).size === 3, `the lightbox showed the same image twice: ${seen.join(' ')}`)
    assert(await dialog.getByRole('button', { name: 'Next photo' }).isDisabled(), 'Next is enabled on the last photo')
    await owner.keyboard.press('ArrowRight')
    await shown(3)
    await owner.keyboard.press('ArrowLeft')
    assert((await shown(2)) === seen[1], 'ArrowLeft did not go back to the second photo')
    await owner.keyboard.press('Escape')
    await dialog.waitFor({ state: 'detached' })
    const focused = await owner.evaluate(() => document.activeElement?.getAttribute('data-photo-id'))
    assert(focused !== null && focused !== undefined, 'focus did not return to the photo after Esc')
  },
  { needs: ['photoIds'] },
)

await h.step(
  'like and comment on a photo',
  async () => {
    const grid = owner.getByRole('list', { name: 'Photos in this album' })
    await grid.getByRole('link').first().click()
    await owner.getByRole('dialog', { name: 'Photo viewer' }).getByRole('link', { name: 'Details and comments' }).click()
    await owner.waitForURL(/\/photos\/\d+$/)
    const photoId = Number(new URL(owner.url()).pathname.split('/').pop())
    await imagesLoaded(owner, '.photo-page__figure img', 1)
    const like = owner.getByRole('button', { name: 'Like' })
    assert((await like.getAttribute('aria-pressed')) === 'false', 'the photo starts liked')
    await like.click()
    await owner.locator('.likes__count', { hasText: '1 like' }).waitFor()
    assert((await like.getAttribute('aria-pressed')) === 'true', 'the like button is not pressed after liking')
    await owner.getByLabel('Add a comment').fill(COMMENT)
    await owner.getByRole('button', { name: 'Post comment' }).click()
    await owner.locator('.comment-list .comment__body', { hasText: COMMENT }).waitFor()
    await owner.getByRole('heading', { name: '1 comment' }).waitFor()
    await imagesLoaded(owner, '.photo-page__figure img', 1)
    await settled(owner)
    h.set('photoShot', await owner.screenshot({ fullPage: true }))
    await axe(owner, 'photo (owner)')
    h.set('photoId', photoId)
    return `photo ${photoId}`
  },
  { needs: ['photoIds'] },
)

await h.step(
  'create a private album from the profile page',
  async () => {
    await owner.getByRole('link', { name: `Your profile: ${ACCOUNT.displayName}` }).click()
    await heading(owner).filter({ hasText: ACCOUNT.displayName }).waitFor()
    await axe(owner, 'profile (owner)')
    await owner.getByRole('button', { name: 'New album' }).click()
    const form = owner.getByRole('form', { name: 'New album' })
    await form.getByLabel('Title').fill(PRIVATE_ALBUM)
    await form.getByLabel('Who can see it').selectOption('private')
    await form.getByRole('button', { name: 'Create album' }).click()
    await owner.waitForURL(/\/albums\/\d+$/)
    await heading(owner).filter({ hasText: PRIVATE_ALBUM }).waitFor()
    await owner.locator('.badge', { hasText: 'Private' }).waitFor()
    const id = Number(new URL(owner.url()).pathname.split('/').pop())
    h.set('privateAlbum', id)
    return `album ${id}`
  },
  { needs: ['account'] },
)

// Unlisted: the album opens by its link (with its photos' images, the photo page and
// back), never by its id; then it goes back to public for the steps after this one.
const setVisibility = async (page, visibility) => {
  await page.goto(url(`/albums/${h.state.publicAlbum}`))
  await heading(page).filter({ hasText: PUBLIC_ALBUM }).waitFor()
  await page.getByRole('button', { name: 'Edit album' }).click()
  const form = page.getByRole('form', { name: 'Edit album' })
  await form.getByLabel('Who can see it').selectOption(visibility)
  await form.getByRole('button', { name: 'Save', exact: true }).click()
  await form.waitFor({ state: 'detached' })
}
await h.step(
  'an unlisted album opens by its link alone, images and photo page too',
  async () => {
    await setVisibility(owner, 'unlisted')
    const link = await owner.getByRole('textbox', { name: 'Link to this album' }).inputValue()
    assert(/\/albums\/\d+\?key=[0-9a-f]{32}$/.test(link), `the owner's link: ${link}`)
    await axe(owner, 'album (unlisted, owner)')
    const stranger = await newPage('stranger')
    try {
      await stranger.goto(url(`/albums/${h.state.publicAlbum}`))
      await heading(stranger).filter({ hasText: 'Not found' }).waitFor()
      await stranger.goto(link)
      await heading(stranger).filter({ hasText: PUBLIC_ALBUM }).waitFor()
      await imagesLoaded(stranger, '.jgrid img', 3)
      assert((await stranger.getByRole('textbox', { name: 'Link to this album' }).count()) === 0, 'a stranger is shown the link box')
      const grid = stranger.getByRole('list', { name: 'Photos in this album' })
      await grid.getByRole('link').first().click()
      await stranger.getByRole('dialog', { name: 'Photo viewer' }).getByRole('link', { name: 'Details and comments' }).click()
      await stranger.waitForURL(/\/photos\/\d+\?key=[0-9a-f]{32}$/)
      await imagesLoaded(stranger, '.photo-page__figure img', 1)
      await stranger.locator('.comment__body', { hasText: COMMENT }).waitFor()
    } finally {
      await stranger.context().close()
    }
    await setVisibility(owner, 'public')
    return link.replace(/key=.*/, 'key=…')
  },
  { needs: ['photoId'] },
)

// Share links: a private album opens for a browser with no account through a
// password link, images included, and stops the moment the owner revokes it.
await h.step(
  'a private album shared by a password link opens without an account until revoked',
  async () => {
    await setVisibility(owner, 'private')
    await owner.getByRole('button', { name: 'Share by link' }).click()
    const panel = owner.getByRole('form', { name: 'New share link' })
    await panel.getByLabel('Label (only you see it)').fill('for the para')
    await panel.getByLabel('Password', { exact: true }).fill('pecha-2026')
    await panel.getByRole('button', { name: 'Make link' }).click()
    const link = await owner.getByRole('textbox', { name: 'Share link' }).inputValue()
    assert(/\/s\/[A-Za-z0-9_-]{43}$/.test(link), `the share link: ${link}`)
    await axe(owner, 'album (share links, owner)')
    const guest = await newPage('guest')
    try {
      await guest.goto(link)
      await heading(guest).filter({ hasText: 'This album needs a password' }).waitFor()
      await guest.getByLabel('Password', { exact: true }).fill('not-the-password')
      await guest.getByRole('button', { name: 'Open album' }).click()
      await guest.getByRole('alert').filter({ hasText: 'That password is not right.' }).waitFor()
      await guest.getByLabel('Password', { exact: true }).fill('pecha-2026')
      await guest.getByRole('button', { name: 'Open album' }).click()
      await heading(guest).filter({ hasText: PUBLIC_ALBUM }).waitFor()
      await imagesLoaded(guest, '.jgrid img', 3)
      await axe(guest, 'shared album (guest)')
      // The link opens its album's page, not the album itself.
      await guest.goto(url(`/albums/${h.state.publicAlbum}`))
      await heading(guest).filter({ hasText: 'Not found' }).waitFor()
      await owner.getByRole('list', { name: 'Share links' }).getByRole('button', { name: 'Revoke' }).click()
      await owner.getByRole('button', { name: 'Yes, revoke' }).click()
      await owner.getByText('No share links yet.').waitFor()
      await guest.goto(link)
      await heading(guest).filter({ hasText: 'Not found' }).waitFor()
    } finally {
      await guest.context().close()
    }
    await setVisibility(owner, 'public')
    return link.replace(/\/s\/.*/, '/s/…')
  },
  { needs: ['photoId'] },
)

// Guest uploads: the owner makes an upload link (its QR code draws), a browser with
// no account sends two photos through it, they wait until the owner approves one.
await h.step(
  'a guest with no account sends photos through an upload link; the owner approves one',
  async () => {
    await owner.goto(url(`/albums/${h.state.privateAlbum}`))
    await heading(owner).filter({ hasText: PRIVATE_ALBUM }).waitFor()
    await owner.getByRole('button', { name: 'Guest uploads' }).click()
    const form = owner.getByRole('form', { name: 'New upload link' })
    await form.getByLabel('Label (shown to guests)').fill('Gate poster')
    await form.getByRole('button', { name: 'Make upload link' }).click()
    const links = owner.getByRole('list', { name: 'Upload links' })
    await imagesLoaded(owner, '.upload-link__qr', 1)
    const link = await links.getByRole('textbox', { name: 'Upload link' }).inputValue()
    assert(/\/g\/[A-Za-z0-9_-]{43}$/.test(link), `the upload link: ${link}`)
    await axe(owner, 'album (upload links, owner)')
    const photos = (await makePhotos(owner)).slice(0, 2)
    const guest = await newPage('guest')
    try {
      await guest.goto(link)
      await heading(guest).filter({ hasText: PRIVATE_ALBUM }).waitFor()
      await axe(guest, 'guest upload')
      await guest.getByLabel('Your name').fill('Rumki')
      await guest.getByLabel('Photos', { exact: true }).setInputFiles(photos.map(({ name, mimeType, buffer }) => ({ name, mimeType, buffer })))
      await guest.getByRole('button', { name: 'Send 2 photos' }).click()
      await guest.getByRole('status').filter({ hasText: 'Your 2 photos were sent and wait for review' }).waitFor({ timeout: 30_000 })
    } finally {
      await guest.context().close()
    }
    // A screen at the pandal: the private album's live wall, through a share link.
    const share = await owner.evaluate(async (album) => {
      const res = await fetch(`/api/v1/albums/${album}/shares`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ label: 'screen' }),
      })
      return (await res.json()).token
    }, h.state.privateAlbum)
    const screen = await newPage('wall')
    try {
      await screen.goto(url(`/wall/s/${share}`))
      await screen.getByText('Waiting for photos…').waitFor()
      await screen.locator('.wall__live--on').waitFor()
      await owner.getByRole('link', { name: 'Review', exact: true }).click()
      const queue = owner.getByRole('list', { name: 'Photos waiting for review' })
      await imagesLoaded(owner, '.review-item img', 2)
      await axe(owner, 'review queue')
      assert((await queue.getByText('From Rumki', { exact: false }).count()) === 2, 'the guest’s name on both')
      const approvedAt = Date.now()
      await queue.getByRole('button', { name: 'Approve' }).first().click()
      await imagesLoaded(owner, '.review-item img', 1)
      // The wall shows it within two seconds of the approval, with who sent it.
      await screen.getByText('New photo').waitFor({ timeout: 2_000 })
      await screen.locator('.wall__by', { hasText: 'Rumki' }).waitFor()
      const shownAfter = Date.now() - approvedAt
      await imagesLoaded(screen, '.wall__img img', 1)
      h.set('wallLatencyMs', shownAfter)
    } finally {
      await screen.context().close()
    }
    await owner.getByRole('link', { name: 'Back to the album' }).click()
    await heading(owner).filter({ hasText: PRIVATE_ALBUM }).waitFor()
    await imagesLoaded(owner, '.jgrid img', 1)
    return link.replace(/\/g\/.*/, '/g/…')
  },
  { needs: ['privateAlbum'] },
)

await h.step(
  'search finds the public album',
  async () => {
    await nav(owner).getByRole('link', { name: 'Search' }).click()
    await heading(owner).filter({ hasText: 'Search' }).waitFor()
    await axe(owner, 'search (empty)')
    await owner.getByLabel('Pandal, city, album or caption').fill('Kumartuli')
    await owner.getByLabel('Pandal, city, album or caption').press('Enter')
    await owner.getByRole('link', { name: PUBLIC_ALBUM }).waitFor()
    await axe(owner, 'search (results)')
  },
  { needs: ['publicAlbum'] },
)

await h.step(
  'settings save a bio',
  async () => {
    await owner.getByRole('link', { name: 'Settings', exact: true }).first().click()
    await heading(owner).filter({ hasText: 'Settings' }).waitFor()
    await axe(owner, 'settings')
    await owner.getByLabel('About you').fill('Pandal hopper from North Kolkata.')
    await owner.getByRole('button', { name: 'Save', exact: true }).click()
    await owner.getByText('Saved.').waitFor()
  },
  { needs: ['account'] },
)

// ------------------------------------------------------------------ log out: what strangers see
await h.step(
  'log out',
  async () => {
    await owner.getByRole('button', { name: 'Log out' }).click()
    await owner.getByRole('link', { name: 'Log in', exact: true }).waitFor()
    assert((await owner.getByRole('button', { name: 'Log out' }).count()) === 0, 'still logged in')
    h.set('loggedOut', true)
  },
  { needs: ['account'] },
)

await h.step(
  'an anonymous visitor sees the public album and its photo',
  async () => {
    await owner.goto(url(`/albums/${h.state.publicAlbum}`))
    await heading(owner).filter({ hasText: PUBLIC_ALBUM }).waitFor()
    await imagesLoaded(owner, '.jgrid img', 3)
    assert((await owner.getByRole('button', { name: 'Edit album' }).count()) === 0, 'a stranger may edit the album')
    await axe(owner, 'album (anonymous)')
    await owner.goto(url(`/photos/${h.state.photoId}`))
    await owner.locator('.likes', { hasText: '1 like' }).waitFor()
    await owner.locator('.comment__body', { hasText: COMMENT }).waitFor()
    await owner.getByRole('link', { name: 'Log in to comment' }).waitFor()
    await axe(owner, 'photo (anonymous)')
  },
  { needs: ['loggedOut', 'photoId'] },
)

await h.step(
  'an anonymous visitor reports the photo',
  async () => {
    await owner.goto(url(`/photos/${h.state.photoId}`))
    await owner.getByRole('button', { name: 'Report this photo' }).click()
    const form = owner.getByRole('form', { name: 'Report this photo' })
    await form.getByLabel('Why?').selectOption('private')
    await form.getByLabel('Anything the reviewers should know (optional)').fill('That is my grandmother.')
    await axe(owner, 'photo (reporting)')
    await form.getByRole('button', { name: 'Send report' }).click()
    await owner.getByRole('status').filter({ hasText: 'The album’s keepers will look at it.' }).waitFor()
    h.set('reported', true)
  },
  { needs: ['loggedOut', 'photoId'] },
)

await h.step(
  'an anonymous visitor gets "not found" for the private album',
  async () => {
    await owner.goto(url(`/albums/${h.state.privateAlbum}`))
    await heading(owner).filter({ hasText: 'Not found' }).waitFor()
    assert((await owner.getByText(PRIVATE_ALBUM).count()) === 0, 'the private album title is shown to a stranger')
    const api = await owner.request.get(url(`/api/v1/albums/${h.state.privateAlbum}`))
    assert(api.status() === 404, `the API answered ${api.status()} for a private album`)
    await owner.goto(url(`/u/${ACCOUNT.username}`))
    await heading(owner).filter({ hasText: ACCOUNT.displayName }).waitFor()
    assert((await owner.getByText(PRIVATE_ALBUM).count()) === 0, 'the private album is listed on the profile')
    await axe(owner, 'not found')
  },
  { needs: ['loggedOut', 'privateAlbum'] },
)

await h.step(
  'log in again',
  async () => {
    await owner.getByRole('link', { name: 'Log in', exact: true }).click()
    await heading(owner).filter({ hasText: 'Log in' }).waitFor()
    await axe(owner, 'login')
    await owner.getByLabel('Username or email').fill(ACCOUNT.username)
    await owner.getByLabel('Password').fill(ACCOUNT.password)
    await owner.getByRole('button', { name: 'Log in' }).click()
    await owner.getByRole('link', { name: `Your profile: ${ACCOUNT.displayName}` }).waitFor()
    h.set('loggedInAgain', true)
  },
  { needs: ['loggedOut'] },
)

await h.step(
  'the owner sees the report and dismisses it',
  async () => {
    await owner.goto(url('/reports'))
    const list = owner.getByRole('list', { name: 'Open reports' })
    await list.getByText('That is my grandmother.').waitFor()
    await imagesLoaded(owner, '.report img', 1)
    await axe(owner, 'reports')
    await list.getByRole('button', { name: 'Dismiss' }).click()
    await owner.getByText('No open reports.').waitFor()
  },
  { needs: ['loggedInAgain', 'reported'] },
)

await h.step(
  'the like and the comment are kept for the next session',
  async () => {
    // Logging in dropped every cached answer: this is the server's word.
    await owner.getByRole('link', { name: `Your profile: ${ACCOUNT.displayName}` }).click()
    await owner.getByRole('link', { name: PUBLIC_ALBUM }).click()
    await owner.getByRole('list', { name: 'Photos in this album' }).locator(`a[data-photo-id="${h.state.photoId}"]`).click()
    await owner.getByRole('dialog', { name: 'Photo viewer' }).getByRole('link', { name: 'Details and comments' }).click()
    await owner.waitForURL(new RegExp(`/photos/${h.state.photoId}$`))
    await owner.locator('.likes__count', { hasText: '1 like' }).waitFor()
    assert((await owner.getByRole('button', { name: 'Like' }).getAttribute('aria-pressed')) === 'true', 'the like was not kept')
    await owner.locator('.comment-list .comment__body', { hasText: COMMENT }).waitFor()
    await owner.getByRole('button', { name: 'Log out' }).click()
    await owner.getByRole('link', { name: 'Log in', exact: true }).waitFor()
  },
  { needs: ['loggedInAgain', 'photoId'] },
)

// ------------------------------------------------------------------ Bengali
await h.step(
  'switch to Bengali: the UI is translated and the choice is remembered',
  async () => {
    await nav(owner).getByRole('link', { name: 'Home' }).click()
    await heading(owner).filter({ hasText: 'Durga Puja, one pandal at a time' }).waitFor()
    await owner.getByRole('button', { name: 'Language: বাংলা' }).click()
    await owner.getByRole('navigation', { name: 'প্রধান' }).getByRole('link', { name: 'প্রথম পাতা' }).waitFor()
    await heading(owner).filter({ hasText: 'দুর্গাপুজো, এক এক করে প্যান্ডেল' }).waitFor()
    assert((await owner.evaluate(() => document.documentElement.lang)) === 'bn', 'html lang is not bn')
    // A new page load (a URL this browser has not loaded yet) starts in Bengali: the choice is kept.
    await owner.goto(url('/pandals?city=Kolkata'))
    await owner.getByRole('navigation', { name: 'প্রধান' }).getByRole('link', { name: 'প্রথম পাতা' }).waitFor()
    await owner.getByRole('button', { name: 'ভাষা: English' }).waitFor()
    await heading(owner).filter({ hasText: 'প্যান্ডেল' }).waitFor()
    await owner.getByRole('link', { name: PANDAL || 'প্রথম পাতা' }).first().waitFor()
    await axe(owner, 'pandals (bn)')
    await owner.getByRole('navigation', { name: 'প্রধান' }).getByRole('link', { name: 'প্রথম পাতা' }).click()
    await heading(owner).filter({ hasText: 'দুর্গাপুজো, এক এক করে প্যান্ডেল' }).waitFor()
    await axe(owner, 'home (bn)')
    if (h.state.publicAlbum) {
      await owner.goto(url(`/albums/${h.state.publicAlbum}?bn`))
      await owner.getByText('৩টি ছবি').first().waitFor()
      await axe(owner, 'album (bn)')
    }
    // The glyphs must come from a Bengali font, not boxes: the drawn width of a conjunct-heavy
    // word differs from the same number of missing-glyph boxes.
    const widths = await owner.evaluate(() => {
      const g = document.createElement('canvas').getContext('2d')
      g.font = `16px ${getComputedStyle(document.body).fontFamily}`
      return [g.measureText('দুর্গাপুজো').width, g.measureText('\u{10FFFD}'.repeat(10)).width]
    })
    assert(widths[0] > 0 && Math.abs(widths[0] - widths[1]) > 1, `Bengali text seems not to render with a Bengali font (${widths})`)
    writeFileSync(join(ARTIFACTS, 'bengali.png'), await owner.screenshot())
  },
  { needs: ['home'] },
)

await h.step(
  "Pujo's own Bengali font (for devices with none) is served and loads under the CSP",
  async () => {
    // This Chromium has Noto Sans Bengali installed, so no page asks for the web font by
    // itself: ask for both faces as a device without a Bengali font would.
    const faces = await owner.evaluate(async () => {
      const text = 'দুর্গাপুজো, এক এক করে প্যান্ডেল।'
      const loaded = [...(await document.fonts.load('16px "Pujo Bengali"', text)), ...(await document.fonts.load('700 16px "Pujo Bengali"', text))]
      return loaded.map((f) => `${f.family.replaceAll('"', '')} ${f.weight} ${f.status}`)
    })
    assert(
      JSON.stringify(faces) === JSON.stringify(['Pujo Bengali 400 loaded', 'Pujo Bengali 700 loaded']),
      `faces: ${JSON.stringify(faces)}`,
    )
    const fonts = await owner.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => new URL(e.name).pathname.startsWith('/fonts/'))
        .map((e) => `${new URL(e.name).pathname} ${e.encodedBodySize || e.transferSize} B`),
    )
    assert(fonts.length === 2, `font requests: ${fonts.join(', ')}`)
    return fonts.join(', ')
  },
  { needs: ['home'] },
)
await owner.context().close()

// ------------------------------------------------------------------ a fresh visitor: LCP, dark, screenshots
await h.step('home page LCP on loopback (median of three cold loads)', async () => {
  const samples = []
  for (const _ of upTo(3)) {
    const page = await newPage('lcp')
    await page.goto(url('/'), { waitUntil: 'load' })
    await heading(page).waitFor()
    if (h.state.uploaded) await imagesLoaded(page, '.jgrid img', 3)
    // Two frames after the last image arrived it has been painted; no input has stopped LCP.
    await nextPaint(page)
    samples.push(
      await page.evaluate(
        () =>
          new Promise((resolve) =>
            new PerformanceObserver((list) => {
              const last = list.getEntries().at(-1)
              resolve({ ms: Math.round(last.startTime), element: last.element?.tagName ?? '?' })
            }).observe({ type: 'largest-contentful-paint', buffered: true }),
          ),
      ),
    )
    await page.context().close()
  }
  const sorted = [...samples].sort((a, b) => a.ms - b.ms)
  const median = sorted[1]
  h.set('lcp', { median_ms: median.ms, element: median.element, samples_ms: samples.map((s) => s.ms), with_photos: Boolean(h.state.uploaded) })
  assert(median.ms < LCP_BUDGET_MS, `LCP ${median.ms} ms (samples ${samples.map((s) => s.ms).join(', ')}) is over ${LCP_BUDGET_MS} ms`)
  return `${median.ms} ms (${median.element}; samples ${samples.map((s) => s.ms).join(', ')} ms)${h.state.uploaded ? '' : ' without photos'}`
})

await h.step(
  'on a phone: axe on the home, album and photo pages, and a swipe moves the lightbox',
  async () => {
    const page = await newPage('phone', { viewport: { width: 412, height: 823 }, deviceScaleFactor: 1.75, isMobile: true, hasTouch: true })
    await page.goto(url('/'))
    await heading(page).waitFor()
    await imagesLoaded(page, '.jgrid img', 3)
    await axe(page, 'home (phone)')
    await page.goto(url(`/photos/${h.state.photoId}`))
    await imagesLoaded(page, '.photo-page__figure img', 1)
    await page.locator('.comment__body', { hasText: COMMENT }).waitFor()
    await axe(page, 'photo (phone)')
    await page.goto(url(`/albums/${h.state.publicAlbum}`))
    await imagesLoaded(page, '.jgrid img', 3)
    await axe(page, 'album (phone)')
    await page.getByRole('list', { name: 'Photos in this album' }).getByRole('link').first().tap()
    const dialog = page.getByRole('dialog', { name: 'Photo viewer' })
    await dialog.getByText('Photo 1 of 3').waitFor()
    // A real (trusted) touch swipe, right to left, through the DevTools protocol.
    const cdp = await page.context().newCDPSession(page)
    const swipe = async (fromX, toX) => {
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: fromX, y: 420 }] })
      for (const x of [fromX + (toX - fromX) / 3, fromX + (2 * (toX - fromX)) / 3, toX])
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x, y: 424 }] })
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] })
    }
    await swipe(330, 80)
    await dialog.getByText('Photo 2 of 3').waitFor()
    await swipe(80, 330)
    await dialog.getByText('Photo 1 of 3').waitFor()
    await cdp.detach()
    await page.context().close()
  },
  { needs: ['photoId', 'publicAlbum'] },
)

await h.step(
  'README screenshots: home, photo, upload',
  async () => {
    const page = await newPage('screenshots')
    await page.goto(url('/'))
    await heading(page).waitFor()
    await imagesLoaded(page, '.jgrid img', 3)
    await settled(page)
    await page.screenshot({ path: join(SCREENSHOTS, 'home.png') })
    writeFileSync(join(SCREENSHOTS, 'photo.png'), h.state.photoShot)
    writeFileSync(join(SCREENSHOTS, 'upload.png'), h.state.uploadShot)
    await page.emulateMedia({ colorScheme: 'dark' })
    await axe(page, 'home (dark)')
    await page.goto(url(`/photos/${h.state.photoId}`))
    await imagesLoaded(page, '.photo-page__figure img', 1)
    await axe(page, 'photo (dark)')
    await page.context().close()
    return `${SCREENSHOTS}/{home,photo,upload}.png`
  },
  { needs: ['uploaded', 'photoShot', 'uploadShot', 'photoId'] },
)
await browser.close()

// ------------------------------------------------------------------ Lighthouse
const lighthouse = []
for (const [label, path, needs] of [
  ['home', '/', 'home'],
  ['photo', () => `/photos/${h.state.photoId}`, 'photoId'],
]) {
  for (const formFactor of ['mobile', 'desktop']) {
    await h.step(
      `lighthouse ${formFactor}: ${label}`,
      async () => {
        const target = url(typeof path === 'function' ? path() : path)
        const result = await runLighthouse(target, { formFactor, artifacts: ARTIFACTS, label })
        lighthouse.push({ page: label, ...result })
        const line = `${Object.entries(result.scores).map(([k, v]) => `${k} ${v}`).join(', ')}; LCP ${result.metrics.lcp_ms} ms, CLS ${result.metrics.cls}, TBT ${result.metrics.tbt_ms} ms`
        const short = GATED[formFactor].filter((c) => result.scores[c] < MIN_SCORE)
        assert(short.length === 0, `${line}; under ${MIN_SCORE}: ${short.join(', ')}; findings: ${result.findings.join(', ')}`)
        const failing = DETERMINISTIC.filter((id) => result.failed.includes(id))
        assert(failing.length === 0, `${line}; failing audits: ${failing.join(', ')}; findings: ${result.findings.join(', ')}`)
        return `${line} (performance score recorded, not gated)`
      },
      { needs: [needs], timeout: 120_000 },
    )
  }
}
const record = {
  measured_at: new Date().toISOString(),
  binary: BINARY,
  chromium: CHROMIUM_VERSION,
  how: 'tests/e2e via scripts/e2e.sh: Lighthouse 12 (npm) in Debian Chromium, headless, one fresh browser per run, against pujo on loopback with the embedded SQLite; mobile = Lighthouse defaults (simulated slow 4G, 4x CPU slowdown), desktop = its desktop preset',
  min_score: MIN_SCORE,
  held_to_min_score: GATED,
  audits_held: DETERMINISTIC,
  home_lcp_loopback: h.state.lcp ?? null,
  lighthouse,
}
writeFileSync(join(ARTIFACTS, 'lighthouse.json'), JSON.stringify(record, null, 2) + '\n')
writeFileSync(join(ARTIFACTS, 'axe.json'), JSON.stringify(axeSeen, null, 2) + '\n')
if (lighthouse.length === 4) writeFileSync(join(SCREENSHOTS, 'lighthouse.json'), JSON.stringify(record, null, 2) + '\n')

await h.step('no CSP violations or uncaught errors in any page', async () => {
  assert(h.problems.length === 0, h.problems.slice(0, 10).join('\n'))
})

const ok = h.summary(join(ARTIFACTS, 'results.json'))
process.exit(ok ? 0 : 1)
