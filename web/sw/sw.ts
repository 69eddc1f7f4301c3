/**
 * Pujo's service worker: the offline shell and the wake-up call for the upload
 * queue. Built by the `pujo-service-worker` plugin in vite.config.ts into
 * dist/sw.js (served at /sw.js with `Cache-Control: no-cache`, so a new build
 * is noticed on the next visit), with PRECACHE (the page, its hashed bundles
 * and the icons) and VERSION (a hash of both) put in front.
 *
 * Pujo serves it with its own CSP, `default-src 'none'; connect-src 'self'`
 * (a worker's CSP is the one sent with its script): it may `fetch()` its own
 * origin, for the uploads, and nothing else.
 *
 * - The page keeps the shell: it asks for the list (`pujo:shell`), puts the files
 *   in the cache under its own CSP (`connect-src 'self'`) and says when they are
 *   there (`pujo:shell-kept`);
 * - a navigation is answered from the browser's own request (navigation preload),
 *   and from the kept page when that fails for want of a network; where the
 *   browser has no navigation preload, navigations are left alone;
 * - a kept file is answered from the cache; anything else is left to the network.
 * - The API, photos and probes never pass through here: Chromium is told so with
 *   static routes where it has them, and the fetch handler leaves them too.
 * - Background Sync: the upload page asks for a sync named `pujo-uploads` when
 *   files are paused for want of a network. When the browser says the network
 *   is back, the upload lock (src/lib/uploadLock.ts) decides who sends: if a
 *   page has the queue open, it holds the lock and is told to send now; if none
 *   does (or the one that did was closing), this worker takes the lock and
 *   sends the queue kept in IndexedDB itself
 *   (src/lib/backgroundSend.ts: tus over fetch, the same resume addresses),
 *   recording each file's state for the page to show later, and says so in a
 *   notification if the person allowed them already (it never asks). Files the
 *   network dropped again make the sync fail, so the browser tries it later.
 *
 * Built with the modules it imports into one classic script (no imports at run
 * time: a service worker's `importScripts` would need `script-src`).
 */
import { fetchTransport } from '../src/api/transport'
import { getMe } from '../src/api/endpoints'
import { uploadResumable } from '../src/api/upload'
import { NOTIFICATION_TAG, notifyOutcome, sendKeptQueue, type Notifier, type Outcome } from '../src/lib/backgroundSend'
import { sendWhenFree } from '../src/lib/uploadLock'
import { idbResumeStore, indexedDbStore } from '../src/lib/uploadStore'

declare const PRECACHE: string[]
declare const VERSION: string

const sw = self as unknown as ServiceWorkerGlobalScope
const SHELL_CACHE = `pujo-shell-${VERSION}`
const SYNC_TAG = 'pujo-uploads'
/** Paths that are data, not the site: always the network, never a cache. */
const NETWORK_ONLY = ['/api/', '/media/', '/health', '/ready', '/metrics']

interface RouterRule {
  condition: { urlPattern: string }
  source: 'network'
}
interface StaticRoutes {
  addRoutes(rules: RouterRule[]): Promise<void>
}
interface SyncEvent extends ExtendableEvent {
  readonly tag: string
  readonly lastChance?: boolean
}

/** The kept files' paths, so that the fetch handler can decide at once (it cannot fall back to the network). */
let kept = new Set<string>()
async function refreshKept(): Promise<void> {
  const cache = await caches.open(SHELL_CACHE)
  kept = new Set((await cache.keys()).map((request) => new URL(request.url).pathname))
}
const keptReady = refreshKept().catch(() => undefined)

sw.addEventListener('install', (event) => {
  const routed = event as ExtendableEvent & Partial<StaticRoutes>
  const rules = NETWORK_ONLY.map((prefix) => ({ condition: { urlPattern: `${prefix}*` }, source: 'network' as const }))
  const routes = typeof routed.addRoutes === 'function' ? routed.addRoutes(rules).catch(() => undefined) : Promise.resolve()
  event.waitUntil(routes.then(() => sw.skipWaiting()))
})

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith('pujo-shell-') && n !== SHELL_CACHE).map((n) => caches.delete(n))))
      .then(() => sw.registration.navigationPreload?.enable())
      .then(() => sw.clients.claim()),
  )
})

sw.addEventListener('message', (event) => {
  const type = (event.data as { type?: unknown } | null)?.type
  if (type === 'pujo:shell') {
    event.ports[0]?.postMessage({ cache: SHELL_CACHE, files: PRECACHE })
  } else if (type === 'pujo:shell-kept') {
    event.waitUntil(refreshKept())
  }
})

function isNetworkOnly(path: string): boolean {
  return NETWORK_ONLY.some((prefix) => path === prefix.replace(/\/$/, '') || path.startsWith(prefix))
}

async function navigate(event: FetchEvent): Promise<Response> {
  try {
    const response = (await event.preloadResponse) as Response | undefined
    if (response) return response
  } catch {
    // No network: the kept page below.
  }
  const shell = await caches.match('/', { cacheName: SHELL_CACHE })
  return shell ?? Response.error()
}

sw.addEventListener('fetch', (event) => {
  const { request } = event
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  if (url.origin !== sw.location.origin || isNetworkOnly(url.pathname)) return
  if (request.mode === 'navigate') {
    // Preload is on from activation, before this worker controls any page.
    if (sw.registration.navigationPreload) event.respondWith(navigate(event))
  } else if (kept.has(url.pathname) || (!sw.navigator.onLine && PRECACHE.includes(url.pathname))) {
    // (Offline, a worker just started may not have read its cache yet: a kept file is the only answer anyway.)
    event.respondWith(caches.match(request, { cacheName: SHELL_CACHE }).then((r) => r ?? Response.error()))
  }
})

/** Tells every open Pujo tab that the network is back (a page with the queue open sends it). */
async function tellWindows(): Promise<void> {
  const windows = await sw.clients.matchAll({ type: 'window' })
  for (const client of windows) client.postMessage({ type: 'pujo:send-uploads' })
}

/** Without Web Locks: the worker sends only when no window of the site is open. */
async function noWindows(): Promise<boolean> {
  return (await sw.clients.matchAll({ type: 'window', includeUncontrolled: true })).length === 0
}

/** Sends the kept queue of whoever is signed in, as the page would (but over fetch). */
function sendQueue(): Promise<Outcome> {
  const resumes = idbResumeStore()
  return sendKeptQueue({
    signedIn: async () => (await getMe())?.id ?? null,
    store: (owner) => indexedDbStore(owner),
    // Kept when done, like the page: a page that opens now finds the photo by HEAD; it forgets the address.
    send: (item) =>
      uploadResumable(fetchTransport, item.albumId, item.file, { caption: item.caption, store: resumes, keepWhenDone: true }),
  })
}

/** Notifications as the worker has them: shown only where the person allowed them already. */
const notifier: Notifier = {
  permission: () => (typeof Notification === 'undefined' ? null : Notification.permission),
  show: (title, options) => sw.registration.showNotification(title, options),
}

async function onUploadSync(): Promise<void> {
  await keptReady
  const attempt = await sendWhenFree(sendQueue, { tellPages: tellWindows, noWindows })
  if (!attempt.sent) return
  await notifyOutcome(attempt.value, sw.navigator.language ?? 'en', notifier)
  // The network went again: failing the sync makes the browser try it later.
  if (attempt.value.waiting > 0) throw new Error(`${attempt.value.waiting} files still wait for the network`)
}

sw.addEventListener('sync', (event) => {
  const sync = event as SyncEvent
  if (sync.tag !== SYNC_TAG) return
  sync.waitUntil(onUploadSync())
})

sw.addEventListener('notificationclick', (event) => {
  if (event.notification.tag !== NOTIFICATION_TAG) return
  event.notification.close()
  event.waitUntil(
    sw.clients.matchAll({ type: 'window' }).then((windows) => {
      const open = windows[0]
      return open ? open.focus().then(() => undefined) : sw.clients.openWindow('/upload').then(() => undefined)
    }),
  )
})
