/**
 * One sender of the upload queue at a time: the page's queue or the service
 * worker, never both. The Web Locks API (`navigator.locks`, in windows and
 * workers alike) holds a lock named {@link UPLOAD_LOCK}:
 *
 * - an open upload page holds it *shared* for as long as its queue is open (two
 *   tabs may both be open, as before), and sends nothing until it has it;
 * - the service worker, woken by Background Sync, takes it *exclusive* if it is
 *   free (no queue open anywhere) and sends the queue itself while holding it;
 *   if a page holds it, that page is the sender: the worker tells it the network
 *   is back, and sends only if the lock comes free within a few seconds (the
 *   holder was a tab being closed, which keeps it a moment after it is gone).
 *
 * So a tab opened while the worker sends waits (showing the kept files) until
 * the worker is done, then reads what the worker recorded: no file goes twice.
 *
 * Where the browser has no Web Locks, the page takes no lock and the worker
 * sends only when no window of the site is open at all (`clients.matchAll`);
 * the race of a tab opening while it sends is then left to Pujo, which answers
 * a second sender of the same upload with 423 and the same bytes with the same photo.
 */
export const UPLOAD_LOCK = 'pujo-uploads'

interface LockOptions {
  mode?: 'shared' | 'exclusive'
  ifAvailable?: boolean
  signal?: AbortSignal
}

/** The part of the Web Locks API used here. */
export interface Locks {
  request<T>(name: string, options: LockOptions, callback: (lock: unknown) => T | Promise<T>): Promise<T>
}

/** The browser's `navigator.locks`, in a window or a worker; null where it has none. */
export function browserLocks(): Locks | null {
  const nav = (globalThis as { navigator?: { locks?: Locks } }).navigator
  return nav?.locks && typeof nav.locks.request === 'function' ? nav.locks : null
}

/** Lets go of a held lock. */
export type Release = () => void

/**
 * Waits for the lock (shared: other pages may hold it too; not while the
 * worker sends) and resolves with its release. Rejects with an `AbortError`
 * when `signal` aborts first. Without Web Locks it is held at once.
 */
export function holdForPage(signal: AbortSignal, locks: Locks | null = browserLocks()): Promise<Release> {
  if (!locks) return Promise.resolve(() => undefined)
  return new Promise<Release>((granted, refused) => {
    locks
      .request(UPLOAD_LOCK, { mode: 'shared', signal }, () => new Promise<void>((release) => granted(release)))
      .catch(refused)
  })
}

/** What the worker's attempt came to: `sent` with what `send` gave, or not sent (a page is the sender). */
export type Attempt<T> = { sent: true; value: T } | { sent: false }

/** What the worker does when the lock is not free, and how it tells whether any page is open. */
export interface Turn {
  /** A page holds the lock: tell the open pages to send now. */
  tellPages(): Promise<void>
  /** Whether no window of the site is open (asked only where there are no Web Locks). */
  noWindows(): Promise<boolean>
  /**
   * How long to wait, after telling them, for the pages holding the lock to let
   * go before leaving the sending to them (ms). A page being closed holds it
   * for a moment after it is gone: then the worker sends after all.
   */
  patienceMs?: number
}

/** How long the worker waits for a page that holds the lock (ms): a closing tab lets go well within it. */
export const PATIENCE_MS = 10_000

/**
 * Runs `send` holding the lock alone. If a page holds it, the pages are told to
 * send, and `send` runs only if the lock comes free within the patience (the
 * holder was closing); otherwise it does not run. Without Web Locks, runs it
 * only if no page is open, and else tells them. Whatever `send` throws is
 * thrown (the lock is let go either way).
 */
export async function sendWhenFree<T>(send: () => Promise<T>, turn: Turn, locks: Locks | null = browserLocks()): Promise<Attempt<T>> {
  if (!locks) {
    if (await turn.noWindows()) return { sent: true, value: await send() }
    await turn.tellPages()
    return { sent: false }
  }
  const sent = async (): Promise<Attempt<T>> => ({ sent: true, value: await send() })
  const now = await locks.request<Attempt<T> | null>(UPLOAD_LOCK, { mode: 'exclusive', ifAvailable: true }, (lock) =>
    lock ? sent() : null,
  )
  if (now) return now
  await turn.tellPages()
  const patience = new AbortController()
  const timer = setTimeout(() => patience.abort(), turn.patienceMs ?? PATIENCE_MS)
  let granted = false
  try {
    return await locks.request<Attempt<T>>(UPLOAD_LOCK, { mode: 'exclusive', signal: patience.signal }, () => {
      granted = true
      clearTimeout(timer)
      return sent()
    })
  } catch (err) {
    if (!granted && patience.signal.aborted) return { sent: false }
    throw err
  } finally {
    clearTimeout(timer)
  }
}
