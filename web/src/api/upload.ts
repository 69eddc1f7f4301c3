/**
 * Photo upload, one file per request so that every file has its own progress
 * bar: resumable (tus, see tus.ts) where the server has it, multipart
 * elsewhere. How each request goes is the caller's {@link Transport}
 * (XMLHttpRequest in the page, for progress; fetch in the service worker), so
 * the page and the worker send a photo the same way.
 */
import { ApiError, INVALID_RESPONSE } from './client'
import { failure, type Transport } from './transport'
import { albumPhotosUrl, guestUploadsUrl } from './endpoints'
import { fingerprint, guestMetadata, sendResumable, sendResumableUpload, terminateUpload, type ResumeStore } from './tus'
import type { GuestUploaded, Photo } from './types'

export interface UploadOptions {
  caption?: string
  /** Bytes sent so far and the request's total (the multipart body, not just the file). */
  onProgress?: (loaded: number, total: number) => void
  signal?: AbortSignal
}

/**
 * `POST /api/v1/albums/{id}/photos` with one `file` part and an optional
 * `caption` part. Resolves with the created photos; rejects with an
 * {@link ApiError} (server error, network failure) or an `AbortError`.
 */
export async function uploadPhoto(transport: Transport, albumId: number, file: File, options: UploadOptions = {}): Promise<Photo[]> {
  const { caption, onProgress, signal } = options
  const form = new FormData()
  if (caption && caption.trim() !== '') form.append('caption', caption.trim())
  form.append('file', file, file.name)
  const answer = await transport('POST', albumPhotosUrl(albumId), {}, form, signal, onProgress)
  if (answer.status < 200 || answer.status >= 300) throw failure(answer)
  const items = (answer.body as { items?: unknown } | undefined)?.items
  if (!Array.isArray(items)) {
    throw new ApiError(answer.status, INVALID_RESPONSE, 'The server sent a response that is not a photo list')
  }
  return items as Photo[]
}

/**
 * Sends one photo through upload link `token` as a guest, resumably (tus): a
 * dropped connection or a reload goes on from what arrived. `proof` is the proof
 * of work a browser that is not a guest yet sends with its first upload. Resolves
 * with what the photo became: waiting for review, or approved.
 */
export async function uploadAsGuest(
  transport: Transport,
  token: string,
  file: File,
  options: ResumableUploadOptions & { name?: string; proof?: string } = {},
): Promise<GuestUploaded> {
  const { caption = '', name = '', proof, onProgress, signal, store } = options
  const done = await sendResumableUpload(file, {
    transport,
    createUrl: guestUploadsUrl(token),
    metadata: guestMetadata(file.name, caption.trim(), name.trim()),
    createHeaders: proof ? { 'X-Pujo-Proof': proof } : {},
    key: JSON.stringify(['guest', token, file.name, file.type, file.size, file.lastModified, caption.trim(), name.trim()]),
    store,
    // A guest whose cookie is gone is a new guest: their old uploads are not theirs.
    forgetWhenSignedOut: true,
    onProgress,
    signal,
  })
  if (done.photoId !== null) return { id: done.photoId, status: 'approved' }
  if (done.pendingId !== null) return { id: done.pendingId, status: 'pending' }
  throw new ApiError(200, INVALID_RESPONSE, 'The upload ended without a photo')
}

export interface ResumableUploadOptions {
  caption?: string
  /** Bytes of the file the server holds, and the file's size. */
  onProgress?: (loaded: number, total: number) => void
  signal?: AbortSignal
  /** Where unfinished uploads are remembered (IndexedDB: `idbResumeStore`); none, nothing resumes. */
  store?: ResumeStore
  /** Keep the address once done, until {@link forgetResumable} (see `keepWhenDone` in tus.ts). */
  keepWhenDone?: boolean
}

/**
 * Sends one photo as a resumable (tus) upload that goes on from where an
 * earlier try stopped; where the server cannot take resumable uploads (501:
 * a Pujo from before they worked with S3), as one multipart request instead. Resolves with the
 * ids of the photos made of it.
 */
export async function uploadResumable(
  transport: Transport,
  albumId: number,
  file: File,
  options: ResumableUploadOptions = {},
): Promise<number[]> {
  const { caption = '', onProgress, signal, store, keepWhenDone } = options
  try {
    return [await sendResumable(file, { transport, albumId, caption: caption.trim(), store, onProgress, signal, keepWhenDone })]
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 501) throw err
    const photos = await uploadPhoto(transport, albumId, file, {
      caption,
      signal,
      onProgress: (loaded, total) => onProgress?.(Math.round((loaded / total) * file.size), file.size),
    })
    return photos.map((p) => p.id)
  }
}

/** Gives up a file's unfinished upload: the server drops its bytes, the address is forgotten. */
export async function discardResumable(
  transport: Transport,
  store: ResumeStore,
  albumId: number,
  file: File,
  caption: string,
): Promise<void> {
  const key = fingerprint(file, albumId, caption.trim())
  const url = await store.get(key)
  if (url === null) return
  await store.remove(key)
  // Best effort: an upload left behind expires on the server by itself.
  await terminateUpload(transport, url).catch(() => undefined)
}

/** Forgets the address of a file whose photo exists (after the queue has recorded it). */
export function forgetResumable(store: ResumeStore, albumId: number, file: File, caption: string): Promise<void> {
  return store.remove(fingerprint(file, albumId, caption.trim()))
}
