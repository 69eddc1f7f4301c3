/**
 * Photo upload, one file per request so that every file has its own progress
 * bar: resumable (tus, see tus.ts) where the server has it, multipart
 * elsewhere. How each request goes is the caller's {@link Transport}
 * (XMLHttpRequest in the page, for progress; fetch in the service worker), so
 * the page and the worker send a photo the same way.
 */
import { ApiError, INVALID_RESPONSE } from './client'
import { failure, type Transport } from './transport'
import { albumPhotosUrl, guestPhotosUrl } from './endpoints'
import { fingerprint, sendResumable, terminateUpload, type ResumeStore } from './tus'
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
 * `POST /api/v1/guest/{token}/photos`: one photo through an upload link, without an
 * account, with the guest's name (optional). Resolves with what became of it:
 * waiting for review, or (a link that needs none) already a photo of the album.
 */
export async function uploadAsGuest(
  transport: Transport,
  token: string,
  file: File,
  options: UploadOptions & { name?: string; proof?: string } = {},
): Promise<GuestUploaded[]> {
  const { caption, name, proof, onProgress, signal } = options
  const form = new FormData()
  if (name && name.trim() !== '') form.append('name', name.trim())
  if (caption && caption.trim() !== '') form.append('caption', caption.trim())
  form.append('file', file, file.name)
  const headers: Record<string, string> = proof ? { 'X-Pujo-Proof': proof } : {}
  const answer = await transport('POST', guestPhotosUrl(token), headers, form, signal, onProgress)
  if (answer.status < 200 || answer.status >= 300) throw failure(answer)
  const items = (answer.body as { items?: unknown } | undefined)?.items
  if (!Array.isArray(items)) {
    throw new ApiError(answer.status, INVALID_RESPONSE, 'The server sent a response that is not a list')
  }
  return items as GuestUploaded[]
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
