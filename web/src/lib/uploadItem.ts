/**
 * What the upload queue knows of one file, and how it is kept: shared by the
 * page's queue (uploadQueue.ts) and the service worker's sender
 * (backgroundSend.ts), which both read and write the same IndexedDB records
 * (uploadStore.ts). Nothing here needs a window.
 */
import { ApiError } from '../api/client'

export type UploadStatus =
  /** Added, waiting for the person to press Upload. */
  | 'ready'
  /** Waiting for a free slot. */
  | 'queued'
  | 'uploading'
  /** The network is gone; goes again by itself when it is back. */
  | 'paused'
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
  /** The original's size when `file` is a smaller copy of it (the data saver), else null. */
  readonly originalSize: number | null
  /** The photos the server made of the file (one, for a photo). */
  readonly photoIds: readonly number[]
}

/**
 * What is kept of a file that is not done yet, or that the service worker sent
 * while no page was open (`done`, with its photos, until a page has shown it).
 * `file` is the bytes that go: with the data saver, the page's smaller copy.
 */
export type StoredUpload = Pick<UploadItem, 'id' | 'file' | 'caption' | 'status' | 'albumId' | 'error'> &
  Partial<Pick<UploadItem, 'originalSize' | 'photoIds'>>

/** Where the queue keeps its files between page loads (IndexedDB in the browser). */
export interface QueueStore {
  load(): Promise<StoredUpload[]>
  save(item: StoredUpload): Promise<void>
  delete(id: number): Promise<void>
}

/** Refusals that sending the same bytes again cannot change. */
const FINAL_CODES = ['payload_too_large', 'unsupported_media_type']

/** Why a file failed, as the queue shows it. */
export function toUploadError(err: unknown): UploadError {
  if (err instanceof ApiError) {
    const retryable = !FINAL_CODES.includes(err.code)
    return { code: err.code, message: err.message, fields: err.fields, retryable }
  }
  return { code: 'unknown', message: err instanceof Error ? err.message : String(err), fields: {}, retryable: true }
}

/** Whether a kept file is on its way: started, and neither done, failed nor cancelled. */
export function isOnItsWay(item: Pick<StoredUpload, 'status' | 'albumId'>): boolean {
  return item.albumId !== null && (item.status === 'queued' || item.status === 'uploading' || item.status === 'paused')
}
