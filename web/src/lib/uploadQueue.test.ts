import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../api/client'
import type { Photo } from '../api/types'
import { MAX_UPLOAD_BYTES, UploadQueue, percent, summarise, type Sender, type UploadItem } from './uploadQueue'

function jpeg(name: string, size = 1000): File {
  const file = new File(['x'], name, { type: 'image/jpeg' })
  Object.defineProperty(file, 'size', { value: size })
  return file
}

/** A sender whose requests the test finishes by hand. */
function manualSender() {
  const pending: {
    item: UploadItem & { albumId: number }
    progress: (loaded: number, total: number) => void
    signal: AbortSignal
    resolve: (photos: Photo[]) => void
    reject: (err: unknown) => void
  }[] = []
  const send: Sender = (item, progress, signal) =>
    new Promise((resolve, reject) => {
      const entry = { item, progress, signal, resolve, reject }
      pending.push(entry)
      signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
    })
  return { send: vi.fn(send), pending }
}

const settle = () => new Promise((r) => setTimeout(r, 0))
const statuses = (q: UploadQueue) => q.getItems().map((i) => i.status)

describe('UploadQueue', () => {
  it('waits for start, then sends at most `concurrency` files at a time to the album', async () => {
    const { send, pending } = manualSender()
    const q = new UploadQueue(send, { concurrency: 2 })
    q.add([jpeg('a.jpg'), jpeg('b.jpg'), jpeg('c.jpg')])
    expect(statuses(q)).toEqual(['ready', 'ready', 'ready'])
    expect(send).not.toHaveBeenCalled()

    q.start(7)
    expect(statuses(q)).toEqual(['uploading', 'uploading', 'queued'])
    expect(pending.map((p) => p.item.albumId)).toEqual([7, 7])

    pending[0]!.resolve([])
    await settle()
    expect(statuses(q)).toEqual(['done', 'uploading', 'uploading'])
  })

  it('reports progress and finishes at 100%', async () => {
    const { send, pending } = manualSender()
    const onUploaded = vi.fn()
    const q = new UploadQueue(send, { onUploaded })
    q.add([jpeg('a.jpg', 2000)])
    q.start(1)
    const seen: number[] = []
    q.subscribe(() => seen.push(percent(q.getItems()[0]!)))

    pending[0]!.progress(500, 2100)
    pending[0]!.progress(2100, 2100)
    expect(q.getItems()[0]).toMatchObject({ loaded: 2100, total: 2100 })
    pending[0]!.resolve([{ id: 99 } as Photo])
    await settle()
    expect(seen).toEqual([23, 100, 100])
    expect(q.getItems()[0]!.photos).toEqual([{ id: 99 }])
    expect(onUploaded).toHaveBeenCalledTimes(1)
  })

  it('cancels a running upload through its signal, and a waiting one at once', async () => {
    const { send, pending } = manualSender()
    const q = new UploadQueue(send, { concurrency: 1 })
    const [a, b] = q.add([jpeg('a.jpg'), jpeg('b.jpg')])
    q.start(1)
    q.cancel(b!.id)
    expect(statuses(q)).toEqual(['uploading', 'cancelled'])

    q.cancel(a!.id)
    expect(pending[0]!.signal.aborted).toBe(true)
    await settle()
    expect(statuses(q)).toEqual(['cancelled', 'cancelled'])
    expect(q.getItems()[0]!.loaded).toBe(0)
    expect(send).toHaveBeenCalledTimes(1)
  })

  it('keeps the server error in words and retries with the same caption and album', async () => {
    const { send, pending } = manualSender()
    const q = new UploadQueue(send)
    const [a] = q.add([jpeg('a.jpg')])
    q.setCaption(a!.id, 'Kumartuli idol')
    q.start(5)
    pending[0]!.reject(new ApiError(503, 'unavailable', 'storage is full for now'))
    await settle()
    expect(q.getItems()[0]).toMatchObject({
      status: 'failed',
      error: { code: 'unavailable', message: 'storage is full for now', retryable: true },
    })

    q.retry(a!.id)
    expect(statuses(q)).toEqual(['uploading'])
    expect(pending[1]!.item).toMatchObject({ albumId: 5, caption: 'Kumartuli idol' })
    expect(q.getItems()[0]!.error).toBeNull()
    pending[1]!.resolve([])
    await settle()
    expect(statuses(q)).toEqual(['done'])
  })

  it('turns a network failure into a retryable error', async () => {
    const q = new UploadQueue(() => Promise.reject(new ApiError(0, 'network_error', 'Could not reach the server')))
    q.add([jpeg('a.jpg')])
    q.start(1)
    await settle()
    expect(q.getItems()[0]!.error).toMatchObject({ code: 'network_error', retryable: true })
  })

  it('fails too large and unsupported files before sending, with no retry', () => {
    const send = vi.fn<Sender>(() => new Promise<Photo[]>(() => {}))
    const q = new UploadQueue(send)
    const gif = new File(['x'], 'a.gif', { type: 'image/gif' })
    const heic = new File(['x'], 'IMG_1.HEIC', { type: '' })
    const [big, bad, ok] = q.add([jpeg('big.jpg', MAX_UPLOAD_BYTES + 1), gif, heic])
    expect(big!.error).toMatchObject({ code: 'payload_too_large', retryable: false })
    expect(bad!.error).toMatchObject({ code: 'unsupported_media_type', retryable: false })
    expect(ok!.status).toBe('ready')

    q.retry(big!.id)
    q.start(1)
    expect(send).toHaveBeenCalledTimes(1)
    expect(summarise(q.getItems())).toMatchObject({ failed: 2, uploading: 1 })
  })

  it('does not retry a server refusal that sending again cannot fix', async () => {
    const q = new UploadQueue(() => Promise.reject(new ApiError(413, 'payload_too_large', 'too big')))
    const [a] = q.add([jpeg('a.jpg')])
    q.start(1)
    await settle()
    q.retry(a!.id)
    expect(statuses(q)).toEqual(['failed'])
  })

  it('removes files and clears finished ones, notifying subscribers with a new snapshot', async () => {
    const q = new UploadQueue(() => Promise.resolve([]))
    const listener = vi.fn()
    q.subscribe(listener)
    const [a, b] = q.add([jpeg('a.jpg'), jpeg('b.jpg')])
    const before = q.getItems()
    q.remove(b!.id)
    expect(q.getItems()).not.toBe(before)
    expect(q.getItems().map((i) => i.id)).toEqual([a!.id])
    q.start(1)
    await settle()
    q.clearDone()
    expect(q.getItems()).toEqual([])
    expect(listener).toHaveBeenCalled()
  })
})
