/**
 * Pujo's service worker: the offline shell and the wake-up call for the upload
 * queue. Built by the `pujo-service-worker` plugin in vite.config.ts into
 * dist/sw.js (served at /sw.js with `Cache-Control: no-cache`, so a new build
 * is noticed on the next visit), with PRECACHE (the page, its hashed bundles
 * and the icons) and VERSION (a hash of both) put in front.
 *
 * It makes no request of its own: Pujo serves every file but HTML with the CSP
 * `default-src 'none'`, which forbids a worker's `fetch()`. So
 *
 * - the page keeps the shell: it asks for the list (`pujo:shell`), puts the files
 *   in the cache under its own CSP (`connect-src 'self'`) and says when they are
 *   there (`pujo:shell-kept`);
 * - a navigation is answered from the browser's own request (navigation preload),
 *   and from the kept page when that fails for want of a network; where the
 *   browser has no navigation preload, navigations are left alone;
 * - a kept file is answered from the cache; anything else is left to the network.
 * - The API, photos and probes never pass through here: Chromium is told so with
 *   static routes where it has them, and the fetch handler leaves them too.
 * - Background Sync: the upload page asks for a sync named `pujo-uploads` when
 *   files are paused for want of a network; when the browser says the network
 *   is back, every open Pujo tab is told to send its queue now.
 */
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

sw.addEventListener('sync', (event) => {
  const sync = event as SyncEvent
  if (sync.tag !== SYNC_TAG) return
  sync.waitUntil(
    keptReady.then(() => sw.clients.matchAll({ type: 'window' })).then((windows) => {
      for (const client of windows) client.postMessage({ type: 'pujo:send-uploads' })
    }),
  )
})
