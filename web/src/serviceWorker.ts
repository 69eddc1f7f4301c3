/**
 * The page's side of the service worker (sw/sw.ts): registering it, asking it
 * for a background sync when uploads wait for the network, and hearing when
 * it says the network is back. Everything is a no-op where the browser has no
 * service workers or no Background Sync (the queue's `online` listener and its
 * retries cover those).
 */
export const UPLOAD_SYNC_TAG = 'pujo-uploads'
const SEND_UPLOADS = 'pujo:send-uploads'

interface SyncManager {
  register(tag: string): Promise<void>
}

function container(): ServiceWorkerContainer | null {
  return typeof navigator !== 'undefined' && 'serviceWorker' in navigator ? navigator.serviceWorker : null
}

/** Asks the worker something and waits for its answer. */
function ask<T>(worker: ServiceWorker, message: unknown): Promise<T> {
  return new Promise((resolve) => {
    const channel = new MessageChannel()
    channel.port1.onmessage = (event) => resolve(event.data as T)
    worker.postMessage(message, [channel.port2])
  })
}

/**
 * Keeps the offline shell: the worker names the files and the cache, the page
 * fetches what is missing (the worker may not: see sw/sw.ts) and says so.
 */
export async function keepShell(worker: ServiceWorker, cacheStorage: CacheStorage = caches): Promise<number> {
  const { cache: name, files } = await ask<{ cache: string; files: string[] }>(worker, { type: 'pujo:shell' })
  const cache = await cacheStorage.open(name)
  const have = new Set((await cache.keys()).map((request) => new URL(request.url).pathname))
  const missing = files.filter((file) => !have.has(file))
  if (missing.length > 0) await cache.addAll(missing)
  worker.postMessage({ type: 'pujo:shell-kept' })
  return missing.length
}

/** Registers /sw.js once the page has loaded, then keeps the shell for offline use. */
/**
 * How long after `load` the worker is registered. Its install and the shell the
 * page then caches are a dozen requests; at `load` they competed with the page's
 * own photos, and Lighthouse's mobile run put the largest paint about 0.7 s later
 * (3.3 s against 2.6 s with no worker). Nothing about the shell is urgent.
 */
export const REGISTER_DELAY_MS = 4000

export function registerServiceWorker(): void {
  const sw = container()
  if (!sw || typeof caches === 'undefined') return
  const register = () =>
    void sw
      .register('/sw.js')
      .then(() => sw.ready)
      .then((registration) => (registration.active ? keepShell(registration.active) : 0))
      .catch(() => undefined)
  const later = () => window.setTimeout(register, REGISTER_DELAY_MS)
  if (document.readyState === 'complete') later()
  else window.addEventListener('load', later, { once: true })
}

/** Asks the browser to wake the service worker when the network is back. */
export async function requestUploadSync(): Promise<boolean> {
  const sw = container()
  if (!sw) return false
  try {
    const registration = (await sw.getRegistration()) as (ServiceWorkerRegistration & { sync?: SyncManager }) | undefined
    if (!registration?.sync) return false
    await registration.sync.register(UPLOAD_SYNC_TAG)
    return true
  } catch {
    return false
  }
}

/** Calls `listener` when the service worker says paused uploads may go now. */
export function onUploadSync(listener: () => void): () => void {
  const sw = container()
  if (!sw) return () => undefined
  const onMessage = (event: MessageEvent) => {
    if ((event.data as { type?: unknown } | null)?.type === SEND_UPLOADS) listener()
  }
  sw.addEventListener('message', onMessage)
  return () => sw.removeEventListener('message', onMessage)
}
