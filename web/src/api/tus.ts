/**
 * A small tus 1.0 client for Pujo's resumable uploads (`/api/v1/uploads`):
 * create, then PATCH the file in chunks of about a megabyte, each with its
 * sha256 where the browser can compute one. A phone in a crowded pandal loses
 * its connection often; a chunk is the most it sends again.
 *
 * Resuming is by fingerprint: the upload's address is remembered under a key
 * made of the file (name, type, size, date), the album and the caption, so the
 * same file sent to the same album after a reload, a closed tab or an hour
 * offline asks the server how far it got (HEAD) and goes on from there.
 *
 * The protocol is here once; how a request goes is the caller's
 * {@link Transport}: XMLHttpRequest in the page (upload progress; one fake in
 * the tests), `fetch` in the service worker (which has no XMLHttpRequest).
 * Either way the browser sends the session cookie and `Origin` by itself (same
 * origin). Nothing here needs a window: the service worker bundles this file.
 */
import { ApiError, INVALID_RESPONSE } from './client'
import { abortError, failure, type Answer, type Transport } from './transport'
import { uploadsUrl } from './endpoints'

export const TUS_VERSION = '1.0.0'
/** Small enough that a phone on a poor network finishes one before it drops. */
export const CHUNK_BYTES = 1024 * 1024
/** How often one chunk is sent again after a checksum mismatch, or tried again while locked. */
const MAX_CHUNK_RETRIES = 5

/**
 * Where the addresses of unfinished uploads are remembered, by fingerprint
 * (IndexedDB in the browser, `idbResumeStore` in lib/uploadStore.ts, so that the
 * page and the service worker share them).
 */
export interface ResumeStore {
  get(key: string): Promise<string | null>
  set(key: string, url: string): Promise<void>
  remove(key: string): Promise<void>
}

/** What identifies one file sent to one album with one caption (and in which form). */
export function fingerprint(file: File, albumId: number, caption: string, form = 'original'): string {
  return JSON.stringify([albumId, form, file.name, file.type, file.size, file.lastModified, caption])
}

export interface ResumableOptions {
  /** How each request goes (XMLHttpRequest in the page, fetch in the service worker). */
  transport: Transport
  /**
   * The album a person's upload goes to. A guest's goes where its link says (see
   * `createUrl`) and needs none, given its `metadata` and `key`.
   */
  albumId?: number
  /** Where uploads are made: `/api/v1/uploads` (default), or a guest's upload link's. */
  createUrl?: string
  /** `Upload-Metadata` (default: {@link uploadMetadata} of the album, the file's name and the caption). */
  metadata?: string
  /** Headers of the creation request alone (a guest's proof of work). */
  createHeaders?: Record<string, string>
  caption?: string
  /** Remembers upload addresses; without one nothing resumes across page loads. */
  store?: ResumeStore
  /** The key the address is remembered under (default: {@link fingerprint} of the file). */
  key?: string
  /** Bytes of the file the server holds, and the file's size. */
  onProgress?: (loaded: number, total: number) => void
  signal?: AbortSignal
  chunkBytes?: number
  /**
   * Keep the address once the photo exists, for the caller to forget when it has
   * recorded that the file is done: a reload in between then finds the photo
   * (HEAD) instead of sending the file a second time.
   */
  keepWhenDone?: boolean
  /**
   * The remembered address belongs to an identity that never comes back once gone
   * (a guest's cookie): a 401 for it forgets it and begins anew, where a person who
   * logs in again would find their upload.
   */
  forgetWhenSignedOut?: boolean
  /** Waits between tries while another request holds the upload (423); injectable for tests. */
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>
}

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError'
}

function b64(text: string): string {
  const bytes = new TextEncoder().encode(text)
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** `Upload-Metadata`: the keys Pujo knows, values base64 of UTF-8. */
export function uploadMetadata(albumId: number, filename: string, caption: string): string {
  const pairs = [`album_id ${b64(String(albumId))}`, `filename ${b64(filename)}`]
  if (caption.trim() !== '') pairs.push(`caption ${b64(caption.trim())}`)
  return pairs.join(',')
}

/** `Upload-Metadata` of a guest's upload: the link names the album; the guest may give their name. */
export function guestMetadata(filename: string, caption: string, name: string): string {
  const pairs = [`filename ${b64(filename)}`]
  if (caption !== '') pairs.push(`caption ${b64(caption)}`)
  if (name !== '') pairs.push(`guest_name ${b64(name)}`)
  return pairs.join(',')
}

function send(
  transport: Transport,
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Blob | null,
  signal?: AbortSignal,
  onProgress?: (loaded: number) => void,
): Promise<Answer> {
  return transport(method, url, { 'Tus-Resumable': TUS_VERSION, ...headers }, body, signal, onProgress && ((loaded) => onProgress(loaded)))
}

function ok(answer: Answer): boolean {
  return answer.status >= 200 && answer.status < 300
}

function whole(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value.trim())) return null
  return Number(value.trim())
}

/** Gone: unknown, expired, another person's, or refused and forgotten. */
function isGone(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 410)
}

/** What an upload became once its last byte arrived: a photo, or (a guest's) one waiting for review. */
export interface Done {
  photoId: number | null
  pendingId: number | null
}

interface Progress extends Done {
  offset: number
}

function progressOf(answer: Answer): Progress {
  const offset = whole(answer.header('Upload-Offset'))
  if (offset === null) throw new ApiError(answer.status, INVALID_RESPONSE, 'The server sent no Upload-Offset')
  return { offset, photoId: whole(answer.header('Pujo-Photo-Id')), pendingId: whole(answer.header('Pujo-Pending-Id')) }
}

function isDone(progress: Progress): boolean {
  return progress.photoId !== null || progress.pendingId !== null
}

/** `POST <createUrl>`: a new upload of `length` bytes; resolves with its address. */
export async function createUpload(
  transport: Transport,
  createUrl: string,
  length: number,
  metadata: string,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<string> {
  const answer = await send(
    transport,
    'POST',
    createUrl,
    { ...headers, 'Upload-Length': String(length), 'Upload-Metadata': metadata },
    null,
    signal,
  )
  if (!ok(answer)) throw failure(answer)
  const location = answer.header('Location')
  if (!location) throw new ApiError(answer.status, INVALID_RESPONSE, 'The server sent no Location for the upload')
  // `location` is the page's, or the worker's (/sw.js): the same origin either way.
  return new URL(location, globalThis.location.href).pathname
}

/** `HEAD <upload>`: how many bytes the server holds, and the photo once it is one. */
export async function uploadProgress(transport: Transport, url: string, signal?: AbortSignal): Promise<Progress> {
  const answer = await send(transport, 'HEAD', url, {}, null, signal)
  if (!ok(answer)) throw failure(answer)
  return progressOf(answer)
}

/** `DELETE <upload>`: gives it up; the server drops its bytes. */
export async function terminateUpload(transport: Transport, url: string): Promise<void> {
  const answer = await send(transport, 'DELETE', url, {}, null)
  if (!ok(answer) && !isGone(failure(answer))) throw failure(answer)
}

async function sha256(chunk: Blob): Promise<string | null> {
  // Only in secure contexts (HTTPS, localhost); elsewhere the chunk goes without.
  const subtle = globalThis.crypto?.subtle
  if (!subtle) return null
  const digest = new Uint8Array(await subtle.digest('SHA-256', new Uint8Array(await chunk.arrayBuffer())))
  let binary = ''
  for (const byte of digest) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** `PATCH <upload>`: `chunk` at `offset`. */
async function appendChunk(
  transport: Transport,
  url: string,
  offset: number,
  chunk: Blob,
  signal?: AbortSignal,
  onProgress?: (loaded: number) => void,
): Promise<Progress> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/offset+octet-stream',
    'Upload-Offset': String(offset),
  }
  const checksum = await sha256(chunk)
  if (checksum) headers['Upload-Checksum'] = `sha256 ${checksum}`
  const answer = await send(transport, 'PATCH', url, headers, chunk, signal, onProgress)
  if (!ok(answer)) throw failure(answer)
  return progressOf(answer)
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError())
      return
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortError())
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Sends `file` as a resumable upload, going on from where an earlier try with the
 * same fingerprint stopped. Resolves with the id of the photo the server made of
 * it; rejects with an {@link ApiError} (a network failure keeps the address for
 * the next try; a refusal forgets it) or an `AbortError`.
 */
export async function sendResumable(file: File, options: ResumableOptions): Promise<number> {
  const done = await sendResumableUpload(file, options)
  if (done.photoId === null) throw new ApiError(200, INVALID_RESPONSE, 'The upload ended without a photo')
  return done.photoId
}

/**
 * {@link sendResumable} for any upload, a guest's included: resolves with what the
 * upload became (a photo, or a photo waiting for review).
 */
export async function sendResumableUpload(file: File, options: ResumableOptions): Promise<Done> {
  const { transport, albumId, store, signal, onProgress } = options
  const caption = options.caption ?? ''
  const chunkBytes = Math.max(1, options.chunkBytes ?? CHUNK_BYTES)
  const wait = options.wait ?? delay
  const album = (): number => {
    if (albumId === undefined) throw new TypeError('An upload needs an album, or its metadata and key')
    return albumId
  }
  const key = options.key ?? fingerprint(file, album(), caption)
  const createUrl = options.createUrl ?? uploadsUrl
  const metadata = options.metadata ?? uploadMetadata(album(), file.name, caption)
  const total = file.size
  const finished = async ({ photoId, pendingId }: Done): Promise<Done> => {
    if (!options.keepWhenDone) await store?.remove(key)
    onProgress?.(total, total)
    return { photoId, pendingId }
  }

  let tries = 0
  /**
   * A request turned away by a server at its bound of waiting requests (503 `busy`):
   * asked again after its `Retry-After`, a few times. A chunk refused so was not kept;
   * sent again, it is (or a 409 says where the upload is). Other failures, a 503
   * `unavailable` (the store or the database down) included, end the try as before,
   * for the person to retry.
   */
  const patiently = async <T>(ask: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await ask()
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== 'busy' || ++tries > MAX_CHUNK_RETRIES) throw err
        await wait((err.retryAfter ?? tries) * 1000, signal)
      }
    }
  }

  let url = (await store?.get(key)) ?? null
  let offset = 0
  if (url !== null) {
    const remembered = url
    try {
      const known = await patiently(() => uploadProgress(transport, remembered, signal))
      // The last chunk arrived but its answer did not: the photo exists already.
      if (isDone(known)) return finished(known)
      offset = known.offset
    } catch (err) {
      const signedOut = options.forgetWhenSignedOut && err instanceof ApiError && err.status === 401
      if (!isGone(err) && !signedOut) throw err
      await store?.remove(key)
      url = null
    }
  }
  let restarted = false
  for (;;) {
    if (url === null) {
      url = await patiently(() => createUpload(transport, createUrl, total, metadata, options.createHeaders, signal))
      await store?.set(key, url)
      offset = 0
    }
    onProgress?.(offset, total)
    const chunk = file.slice(offset, Math.min(total, offset + chunkBytes))
    const base = offset
    const at = url
    try {
      const next = await patiently(() =>
        appendChunk(transport, at, base, chunk, signal, (loaded) => onProgress?.(Math.min(total, base + loaded), total)),
      )
      tries = 0
      if (isDone(next)) return finished(next)
      if (next.offset <= offset || next.offset > total) {
        throw new ApiError(204, INVALID_RESPONSE, `The server answered offset ${next.offset} after ${offset}`)
      }
      offset = next.offset
      if (offset === total) {
        // Every byte is there but no photo was named: ask once more.
        const known = await patiently(() => uploadProgress(transport, at, signal))
        if (!isDone(known)) throw new ApiError(200, INVALID_RESPONSE, 'The upload ended without a photo')
        return finished(known)
      }
    } catch (err) {
      if (isAbort(err)) throw err
      if (!(err instanceof ApiError)) throw err
      if (isGone(err)) {
        // Expired or forgotten: start again, once.
        await store?.remove(key)
        if (restarted) throw err
        restarted = true
        url = null
        continue
      }
      if (err.status === 409 || err.status === 423 || err.status === 460) {
        if (++tries > MAX_CHUNK_RETRIES) throw err
        // 423: another request (a tab, or the one a reload cut) is still appending.
        if (err.status === 423) await wait((err.retryAfter ?? tries) * 1000, signal)
        const known = await patiently(() => uploadProgress(transport, at, signal))
        if (isDone(known)) return finished(known)
        offset = known.offset
        continue
      }
      if ([413, 415, 422].includes(err.status)) await store?.remove(key)
      throw err
    }
  }
}
