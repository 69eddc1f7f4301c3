/**
 * The upload queue: which files wait, which are being sent (at most
 * `concurrency` at a time), their progress, and cancel / retry. It knows
 * nothing of React or XHR: the sender is passed in, and the page subscribes
 * with `useSyncExternalStore`. Every change replaces the items array, so a
 * snapshot can be compared by identity.
 */
import { ApiError } from '../api/client'
import type { Photo } from '../api/types'

/** What the server accepts (30 MB each; JPEG, PNG, WebP, HEIC). */
export const MAX_UPLOAD_BYTES = 30 * 1024 * 1024
export const ACCEPTED_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/heif']
const ACCEPTED_EXTENSIONS = /\.(jpe?g|png|webp|heic|heif)$/i

export type UploadStatus =
  /** Added, waiting for the person to press Upload. */
  | 'ready'
  /** Waiting for a free slot. */
  | 'queued'
  | 'uploading'
  | 'done'
  | 'failed'
  | 'cancelled'

export interface UploadError {
  code: string
  message: string
  fields: Record<string, string>
  /** False when sending the same file again cannot help (too big, wrong type). */
  retryable: boolean
}

export interface UploadItem {
  readonly id: number
  readonly file: File
  readonly caption: string
  readonly status: UploadStatus
  /** Album the file goes to; set when the upload is started. */
  readonly albumId: number | null
  readonly loaded: number
  readonly total: number
  readonly error: UploadError | null
  readonly photos: readonly Photo[]
}

export type Sender = (
  item: UploadItem & { albumId: number },
  onProgress: (loaded: number, total: number) => void,
  signal: AbortSignal,
) => Promise<Photo[]>

export interface QueueOptions {
  concurrency?: number
  /** Called once for each file that finished uploading. */
  onUploaded?: (item: UploadItem) => void
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

function toUploadError(err: unknown): UploadError {
  if (err instanceof ApiError) {
    const retryable = !['payload_too_large', 'unsupported_media_type'].includes(err.code)
    return { code: err.code, message: err.message, fields: err.fields, retryable }
  }
  return { code: 'unknown', message: err instanceof Error ? err.message : String(err), fields: {}, retryable: true }
}

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError'
}

export class UploadQueue {
  private items: readonly UploadItem[] = []
  private readonly listeners = new Set<() => void>()
  private readonly controllers = new Map<number, AbortController>()
  private nextId = 1
  private readonly concurrency: number
  private readonly onUploaded?: (item: UploadItem) => void
  private readonly send: Sender

  constructor(send: Sender, options: QueueOptions = {}) {
    this.send = send
    this.concurrency = Math.max(1, options.concurrency ?? 2)
    this.onUploaded = options.onUploaded
  }

  getItems = (): readonly UploadItem[] => this.items

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Adds files; those that cannot be sent are failed at once with the reason. */
  add(files: Iterable<File>): UploadItem[] {
    const added: UploadItem[] = []
    for (const file of files) {
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
        photos: [],
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
      this.controllers.get(id)?.abort()
    } else if (item.status === 'ready' || item.status === 'queued') {
      this.update(id, (it) => ({ ...it, status: 'cancelled' }))
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

  /** Aborts everything in flight (leaving the page). */
  dispose(): void {
    for (const controller of this.controllers.values()) controller.abort()
    this.listeners.clear()
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

  private commit(items: readonly UploadItem[]): void {
    this.items = items
    for (const listener of this.listeners) listener()
  }

  private pump(): void {
    let running = this.items.filter((item) => item.status === 'uploading').length
    for (const item of this.items) {
      if (running >= this.concurrency) break
      if (item.status !== 'queued' || item.albumId === null) continue
      running++
      this.run(item.id)
    }
  }

  private run(id: number): void {
    const controller = new AbortController()
    this.controllers.set(id, controller)
    this.update(id, (it) => ({ ...it, status: 'uploading', loaded: 0 }))
    const item = this.find(id) as UploadItem & { albumId: number }
    const onProgress = (loaded: number, total: number) => {
      this.update(id, (it) => (it.status === 'uploading' ? { ...it, loaded, total } : it))
    }
    this.send(item, onProgress, controller.signal).then(
      (photos) => {
        this.update(id, (it) => ({ ...it, status: 'done', loaded: it.total, photos, error: null }))
        const done = this.find(id)
        if (done) this.onUploaded?.(done)
      },
      (err: unknown) => {
        if (isAbort(err)) this.update(id, (it) => ({ ...it, status: 'cancelled', loaded: 0 }))
        else this.update(id, (it) => ({ ...it, status: 'failed', error: toUploadError(err) }))
      },
    ).finally(() => {
      this.controllers.delete(id)
      this.pump()
    })
  }
}

/** Counts by status, for the spoken summary. */
export function summarise(items: readonly UploadItem[]): Record<UploadStatus, number> {
  const counts: Record<UploadStatus, number> = { ready: 0, queued: 0, uploading: 0, done: 0, failed: 0, cancelled: 0 }
  for (const item of items) counts[item.status]++
  return counts
}

/** Whole percent of an item's progress. */
export function percent(item: Pick<UploadItem, 'loaded' | 'total' | 'status'>): number {
  if (item.status === 'done') return 100
  if (item.total <= 0) return 0
  return Math.min(100, Math.floor((item.loaded / item.total) * 100))
}
