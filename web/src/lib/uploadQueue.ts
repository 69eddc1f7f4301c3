/**
 * The upload queue: which files wait, which are being sent (at most
 * `concurrency` at a time), their progress, and cancel / retry. It knows
 * nothing of React, XHR or tus: the sender is passed in, and the page
 * subscribes with `useSyncExternalStore`. Every change replaces the items
 * array, so a snapshot can be compared by identity.
 *
 * It outlives the connection and the tab: with a {@link QueueStore} every file
 * that is not done yet is kept (the bytes too) and comes back with `open()`
 * after a reload or a restart of the browser; a file whose connection drops
 * is paused, not failed, and goes again when the network is back (at once on
 * `online`, or after a growing wait when the browser thinks it is online).
 */
import { ApiError, NETWORK_ERROR } from '../api/client'
import type { Release } from './uploadLock'
import { toUploadError, type QueueStore, type StoredUpload, type UploadError, type UploadItem, type UploadStatus } from './uploadItem'

export type { QueueStore, StoredUpload, UploadError, UploadItem, UploadStatus } from './uploadItem'

/** What the server accepts (30 MB each; JPEG, PNG, WebP, HEIC). */
export const MAX_UPLOAD_BYTES = 30 * 1024 * 1024
export const ACCEPTED_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/heif']
const ACCEPTED_EXTENSIONS = /\.(jpe?g|png|webp|heic|heif)$/i

export type Sender = (
  item: UploadItem & { albumId: number },
  onProgress: (loaded: number, total: number) => void,
  signal: AbortSignal,
) => Promise<number[]>

/** Whether the device has a network, and word when that changes. */
export interface Network {
  online(): boolean
  subscribe(onChange: () => void): () => void
}

/** The browser's word on the network: `navigator.onLine` and the online / offline events. */
export const browserNetwork: Network = {
  online: () => typeof navigator === 'undefined' || navigator.onLine !== false,
  subscribe: (onChange) => {
    window.addEventListener('online', onChange)
    window.addEventListener('offline', onChange)
    return () => {
      window.removeEventListener('online', onChange)
      window.removeEventListener('offline', onChange)
    }
  },
}

/** Waits before sending paused files again while the browser says it is online (ms). */
export const RESUME_DELAYS = [1000, 3000, 10000, 30000, 60000]

export interface QueueOptions {
  concurrency?: number
  /** Called once for each file that finished uploading. */
  onUploaded?: (item: UploadItem) => void
  /**
   * Called when a file that is done is no longer kept in the store (at once
   * without a store): from then on a reload cannot bring it back to be sent.
   */
  onSettled?: (item: UploadItem) => void
  /** Called when a file is given up (cancelled or removed before it was done). */
  onDiscard?: (item: UploadItem) => void
  /** Called when files are paused for want of a network (to ask for a background sync). */
  onPaused?: () => void
  store?: QueueStore
  /**
   * Waits for the right to send (the upload lock, see uploadLock.ts) and resolves
   * with its release; rejects when `signal` aborts (the queue was closed first).
   */
  lock?: (signal: AbortSignal) => Promise<Release>
  network?: Network
  resumeDelays?: readonly number[]
}

export function isAcceptedFile(file: File): boolean {
  if (ACCEPTED_TYPES.includes(file.type)) return true
  // Some browsers give HEIC files no type at all: trust the extension then.
  return file.type === '' && ACCEPTED_EXTENSIONS.test(file.name)
}

/** Whether a check before sending already failed the file. */
function precheck(file: File): UploadError | null {
  if (!isAcceptedFile(file)) {
    return { code: 'unsupported_media_type', message: `${file.type || 'unknown type'}`, fields: {}, retryable: false }
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    return { code: 'payload_too_large', message: `${file.size} bytes`, fields: {}, retryable: false }
  }
  return null
}

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError'
}

function isNetworkFailure(err: unknown): boolean {
  return err instanceof ApiError && err.code === NETWORK_ERROR
}

/** Why a request in flight was stopped. */
type StopReason = 'cancel' | 'offline' | 'close'

/** Whether what is kept of an item changed (progress is not kept: the server knows it). */
function storedChanged(a: UploadItem, b: UploadItem): boolean {
  return a.status !== b.status || a.caption !== b.caption || a.albumId !== b.albumId || a.error !== b.error
}

/** After a reload: what was on its way goes again; the rest stays as it was. */
function restoredStatus(status: UploadStatus): UploadStatus {
  return status === 'uploading' || status === 'paused' ? 'queued' : status
}

export class UploadQueue {
  private items: readonly UploadItem[] = []
  private readonly listeners = new Set<() => void>()
  private readonly controllers = new Map<number, { controller: AbortController; reason: StopReason | null }>()
  /**
   * Queue ids are the store's keys, shared by every tab and the service worker: a
   * thousand a millisecond, from a random one, so that two tabs opened in the same
   * millisecond (a browser restoring its session) do not draw the same.
   */
  private nextId = Date.now() * 1000 + Math.floor(Math.random() * 1000)
  private readonly concurrency: number
  private readonly options: QueueOptions
  private readonly send: Sender
  private readonly network: Network | null
  private unsubscribeNetwork: (() => void) | null = null
  private resumeTimer: ReturnType<typeof setTimeout> | null = null
  private failures = 0
  private opened = false
  private storeWorks = false
  /** False while `open()` waits for the lock: nothing is sent before it is held. */
  private mayGo = true
  private lockAbort: AbortController | null = null
  private release: Release | null = null
  /** The sends in flight, each settled once its outcome is recorded. */
  private readonly running = new Set<Promise<void>>()

  constructor(send: Sender, options: QueueOptions = {}) {
    this.send = send
    this.concurrency = Math.max(1, options.concurrency ?? 2)
    this.options = options
    this.network = options.network ?? (typeof window === 'undefined' ? null : browserNetwork)
  }

  /** Whether the files outlive the page: a store is there and it answered (private windows may refuse). */
  get persistent(): boolean {
    return this.storeWorks
  }

  getItems = (): readonly UploadItem[] => this.items

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Starts listening to the network and brings back the files kept from an
   * earlier page: those that were on their way go again, and those the service
   * worker sent meanwhile are shown done (once) or failed with the reason.
   * With a `lock`, nothing is sent before it is held: the kept files are shown
   * at once, and read again once it is held (another sender may have sent them
   * meanwhile). Resolves when the queue may send.
   */
  async open(): Promise<void> {
    if (this.opened) return
    this.opened = true
    this.unsubscribeNetwork = this.network?.subscribe(() => this.onNetworkChange()) ?? null
    const { store, lock } = this.options
    if (lock) this.mayGo = false
    const first = store ? await this.bringBack(store) : null
    if (!this.opened) return
    if (lock) {
      const abort = new AbortController()
      this.lockAbort = abort
      let release: Release | null = null
      try {
        release = await lock(abort.signal)
      } catch {
        // Closed while waiting; or no lock to be had (then send anyway, as without one).
        if (abort.signal.aborted) return
      } finally {
        if (this.lockAbort === abort) this.lockAbort = null
      }
      if (!this.opened) {
        release?.()
        return
      }
      this.release = release
      if (store && first !== null) await this.readAgain(store, first)
      if (!this.opened) return
      this.mayGo = true
    }
    this.pump()
  }

  /** An item as it comes back from the store. */
  private restore(kept: StoredUpload): UploadItem {
    const status = restoredStatus(kept.status)
    return {
      ...kept,
      originalSize: kept.originalSize ?? null,
      status,
      loaded: status === 'done' ? kept.file.size : 0,
      total: kept.file.size,
      photoIds: kept.photoIds ?? [],
    }
  }

  /** Shows the kept files; resolves with their ids, or null when the store did not answer. */
  private async bringBack(store: QueueStore): Promise<Set<number> | null> {
    let kept: StoredUpload[]
    try {
      kept = await store.load()
    } catch {
      return null
    }
    this.storeWorks = true
    if (!this.opened) return null
    const known = new Set(this.items.map((item) => item.id))
    const back = kept.filter((k) => !known.has(k.id)).map((k) => this.restore(k))
    if (back.length > 0) this.commit([...back, ...this.items].sort((a, b) => a.id - b.id), false)
    this.settleSentElsewhere(store, back)
    return new Set(kept.map((k) => k.id))
  }

  /**
   * Once the lock is held: what another sender (the service worker) recorded
   * while this page waited. A file it finished or Pujo refused takes that state;
   * a file shown before and no longer kept was settled elsewhere and goes.
   */
  private async readAgain(store: QueueStore, shown: Set<number>): Promise<void> {
    let kept: StoredUpload[]
    try {
      kept = await store.load()
    } catch {
      return
    }
    if (!this.opened) return
    const rows = new Map(kept.map((k) => [k.id, k]))
    const finished: UploadItem[] = []
    let changed = false
    const next = this.items.flatMap((item): UploadItem[] => {
      const row = rows.get(item.id)
      rows.delete(item.id)
      if (!row) {
        const gone = shown.has(item.id) && item.status !== 'done'
        if (gone) changed = true
        return gone ? [] : [item]
      }
      if ((row.status === 'done' || row.status === 'failed') && item.status !== row.status) {
        changed = true
        const updated = this.restore(row)
        if (updated.status === 'done') finished.push(updated)
        return [updated]
      }
      return [item]
    })
    const back = [...rows.values()].map((k) => this.restore(k))
    if (changed || back.length > 0) this.commit([...next, ...back].sort((a, b) => a.id - b.id), false)
    this.settleSentElsewhere(store, [...finished, ...back])
  }

  /** Files another sender finished: the page has shown them now, so the store forgets them. */
  private settleSentElsewhere(store: QueueStore, items: readonly UploadItem[]): void {
    for (const item of items) {
      if (item.status !== 'done') continue
      this.options.onUploaded?.(item)
      void store.delete(item.id).then(
        () => this.options.onSettled?.(item),
        () => undefined,
      )
    }
  }

  /**
   * Stops sending (leaving the page); what was on its way is kept as waiting for
   * the next `open()`. The lock is let go once what was in flight has stopped and
   * been recorded, so that the next sender reads the true state.
   */
  close(): void {
    this.opened = false
    this.unsubscribeNetwork?.()
    this.unsubscribeNetwork = null
    this.clearResumeTimer()
    this.lockAbort?.abort()
    this.lockAbort = null
    for (const entry of this.controllers.values()) this.stop(entry, 'close')
    const release = this.release
    this.release = null
    if (release) void Promise.allSettled([...this.running]).then(() => release())
  }

  /**
   * Adds files (or smaller copies of them, from the data saver); those that
   * cannot be sent are failed at once with the reason.
   */
  add(files: Iterable<File | { file: File; originalSize: number }>): UploadItem[] {
    const added: UploadItem[] = []
    for (const entry of files) {
      const file = entry instanceof File ? entry : entry.file
      const originalSize = entry instanceof File ? null : entry.originalSize
      const error = precheck(file)
      added.push({
        id: this.nextId++,
        file,
        caption: '',
        status: error ? 'failed' : 'ready',
        albumId: null,
        loaded: 0,
        total: file.size,
        error,
        originalSize,
        photoIds: [],
      })
    }
    if (added.length > 0) this.commit([...this.items, ...added])
    return added
  }

  setCaption(id: number, caption: string): void {
    this.update(id, (item) => (item.status === 'uploading' || item.status === 'done' ? item : { ...item, caption }))
  }

  /** Sends every file that is ready to `albumId`. */
  start(albumId: number): void {
    this.commit(
      this.items.map((item) => (item.status === 'ready' ? { ...item, status: 'queued' as const, albumId } : item)),
    )
    this.pump()
  }

  /** Stops a file: aborts it if it is being sent, or takes it out of the line. */
  cancel(id: number): void {
    const item = this.find(id)
    if (!item) return
    if (item.status === 'uploading') {
      const entry = this.controllers.get(id)
      if (entry) this.stop(entry, 'cancel')
      this.options.onDiscard?.(item)
    } else if (item.status === 'ready' || item.status === 'queued' || item.status === 'paused') {
      this.update(id, (it) => ({ ...it, status: 'cancelled' }))
      this.options.onDiscard?.(item)
      this.pump()
    }
  }

  /** Sends a failed or cancelled file again (to the album it was meant for). */
  retry(id: number): void {
    const item = this.find(id)
    if (!item || (item.status !== 'failed' && item.status !== 'cancelled')) return
    if (item.error && !item.error.retryable) return
    this.update(id, (it) => ({
      ...it,
      status: it.albumId === null ? 'ready' : 'queued',
      error: null,
      loaded: 0,
    }))
    this.pump()
  }

  remove(id: number): void {
    this.cancel(id)
    this.commit(this.items.filter((item) => item.id !== id))
  }

  /** Forgets the files that are done. */
  clearDone(): void {
    this.commit(this.items.filter((item) => item.status !== 'done'))
  }

  /** Aborts everything in flight and stops listening (for good). */
  dispose(): void {
    this.close()
    this.listeners.clear()
  }

  private stop(entry: { controller: AbortController; reason: StopReason | null }, reason: StopReason): void {
    if (entry.reason === null) entry.reason = reason
    entry.controller.abort()
  }

  private find(id: number): UploadItem | undefined {
    return this.items.find((item) => item.id === id)
  }

  private update(id: number, change: (item: UploadItem) => UploadItem): void {
    let changed = false
    const next = this.items.map((item) => {
      if (item.id !== id) return item
      const updated = change(item)
      if (updated !== item) changed = true
      return updated
    })
    if (changed) this.commit(next)
  }

  private commit(items: readonly UploadItem[], persist = true): void {
    const before = this.items
    this.items = items
    if (persist) this.persist(before, items)
    for (const listener of this.listeners) listener()
  }

  /** Keeps what changed: new and changed files, minus those done or gone. */
  private persist(before: readonly UploadItem[], after: readonly UploadItem[]): void {
    const store = this.options.store
    if (!store) {
      const was = new Map(before.map((item) => [item.id, item.status]))
      for (const item of after) if (item.status === 'done' && was.get(item.id) !== 'done') this.options.onSettled?.(item)
      return
    }
    const old = new Map(before.map((item) => [item.id, item]))
    const ignore = () => undefined
    for (const item of after) {
      const was = old.get(item.id)
      old.delete(item.id)
      if (was && !storedChanged(was, item)) continue
      if (item.status === 'done') {
        void store.delete(item.id).then(() => this.options.onSettled?.(item), ignore)
      } else {
        const { id, file, caption, status, albumId, error, originalSize } = item
        void store.save({ id, file, caption, status, albumId, error, originalSize }).catch(ignore)
      }
    }
    for (const id of old.keys()) void store.delete(id).catch(ignore)
  }

  private online(): boolean {
    return this.network?.online() ?? true
  }

  private onNetworkChange(): void {
    if (this.online()) {
      this.resume()
      return
    }
    // Offline: what is being sent stops now (a phone may not notice for minutes).
    for (const entry of this.controllers.values()) this.stop(entry, 'offline')
    this.pump()
  }

  /** Paused files go again (the network is back, or the service worker says so). */
  resume(): void {
    this.clearResumeTimer()
    if (!this.items.some((item) => item.status === 'paused')) return
    this.commit(this.items.map((item) => (item.status === 'paused' ? { ...item, status: 'queued' as const } : item)))
    this.pump()
  }

  private clearResumeTimer(): void {
    if (this.resumeTimer !== null) clearTimeout(this.resumeTimer)
    this.resumeTimer = null
  }

  /** After a network failure: at once when `online` comes, or after a wait if the browser is online already. */
  private scheduleResume(): void {
    this.options.onPaused?.()
    if (!this.online() || this.resumeTimer !== null || !this.opened) return
    const delays = this.options.resumeDelays ?? RESUME_DELAYS
    const wait = delays[Math.min(this.failures, delays.length - 1)] ?? 1000
    this.failures++
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = null
      this.resume()
    }, wait)
  }

  private pump(): void {
    if (!this.mayGo) return
    if (!this.online()) {
      // Nothing can go: what waits is paused until the network is back.
      if (this.items.some((item) => item.status === 'queued' && item.albumId !== null)) {
        this.commit(
          this.items.map((item) =>
            item.status === 'queued' && item.albumId !== null ? { ...item, status: 'paused' as const } : item,
          ),
        )
        this.options.onPaused?.()
      }
      return
    }
    let running = this.items.filter((item) => item.status === 'uploading').length
    for (const item of this.items) {
      if (running >= this.concurrency) break
      if (item.status !== 'queued' || item.albumId === null) continue
      running++
      this.run(item.id)
    }
  }

  private run(id: number): void {
    const entry = { controller: new AbortController(), reason: null as StopReason | null }
    this.controllers.set(id, entry)
    this.update(id, (it) => ({ ...it, status: 'uploading' }))
    const item = this.find(id) as UploadItem & { albumId: number }
    const onProgress = (loaded: number, total: number) => {
      this.update(id, (it) => (it.status === 'uploading' ? { ...it, loaded, total } : it))
    }
    const sending = this.send(item, onProgress, entry.controller.signal)
      .then(
        (photoIds) => {
          this.failures = 0
          this.update(id, (it) => ({ ...it, status: 'done', loaded: it.total, photoIds, error: null }))
          const done = this.find(id)
          if (done) this.onUploaded(done)
        },
        (err: unknown) => {
          if (isAbort(err) && entry.reason === 'close') {
            // Leaving the page: kept as it was for the next open().
            this.update(id, (it) => ({ ...it, status: 'queued' }))
          } else if (entry.reason === 'offline' || isNetworkFailure(err)) {
            this.update(id, (it) => ({ ...it, status: 'paused', error: null }))
            this.scheduleResume()
          } else if (isAbort(err)) {
            this.update(id, (it) => ({ ...it, status: 'cancelled', loaded: 0 }))
          } else {
            this.update(id, (it) => ({ ...it, status: 'failed', error: toUploadError(err) }))
          }
        },
      )
      .finally(() => {
        this.controllers.delete(id)
        this.running.delete(sending)
        if (this.opened || entry.reason !== 'close') this.pump()
      })
    this.running.add(sending)
  }

  private onUploaded(item: UploadItem): void {
    this.options.onUploaded?.(item)
  }
}

/** Counts by status, for the spoken summary. */
export function summarise(items: readonly UploadItem[]): Record<UploadStatus, number> {
  const counts: Record<UploadStatus, number> = { ready: 0, queued: 0, uploading: 0, paused: 0, done: 0, failed: 0, cancelled: 0 }
  for (const item of items) counts[item.status]++
  return counts
}

/** Bytes the data saver kept off the network, over all items. */
export function bytesSaved(items: readonly UploadItem[]): number {
  let saved = 0
  for (const item of items) if (item.originalSize !== null) saved += Math.max(0, item.originalSize - item.file.size)
  return saved
}

/** Whole percent of an item's progress. */
export function percent(item: Pick<UploadItem, 'loaded' | 'total' | 'status'>): number {
  if (item.status === 'done') return 100
  if (item.total <= 0) return 0
  return Math.min(100, Math.floor((item.loaded / item.total) * 100))
}
