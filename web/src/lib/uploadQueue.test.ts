import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../api/client'
import { FakeLocks } from '../test/fakeLocks'
import { holdForPage, sendWhenFree, type Turn } from './uploadLock'
import {
  MAX_UPLOAD_BYTES,
  UploadQueue,
  percent,
  summarise,
  type Network,
  type QueueStore,
  type Sender,
  type StoredUpload,
  type UploadItem,
} from './uploadQueue'

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
    resolve: (photoIds: number[]) => void
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
    pending[0]!.resolve([99])
    await settle()
    expect(seen).toEqual([23, 100, 100])
    expect(q.getItems()[0]!.photoIds).toEqual([99])
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

  it('pauses a file whose connection dropped instead of failing it', async () => {
    const q = new UploadQueue(() => Promise.reject(new ApiError(0, 'network_error', 'Could not reach the server')))
    q.add([jpeg('a.jpg')])
    q.start(1)
    await settle()
    expect(q.getItems()[0]).toMatchObject({ status: 'paused', error: null })
  })

  it('fails too large and unsupported files before sending, with no retry', () => {
    const send = vi.fn<Sender>(() => new Promise<number[]>(() => {}))
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

/** A store in memory, copied like IndexedDB copies. */
function memoryStore(): QueueStore & { rows: Map<number, StoredUpload> } {
  const rows = new Map<number, StoredUpload>()
  return {
    rows,
    load: () => Promise.resolve([...rows.values()].map((r) => ({ ...r }))),
    save: (item) => {
      rows.set(item.id, { ...item })
      return Promise.resolve()
    },
    delete: (id) => {
      rows.delete(id)
      return Promise.resolve()
    },
  }
}

/** A network the test turns off and on. */
function fakeNetwork(online = true): Network & { set(online: boolean): void } {
  const listeners = new Set<() => void>()
  let state = online
  return {
    online: () => state,
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    set(next) {
      state = next
      for (const listener of listeners) listener()
    },
  }
}

describe('UploadQueue across page loads', () => {
  it('keeps every file that is not done, and forgets it once it is', async () => {
    const store = memoryStore()
    const { send, pending } = manualSender()
    const q = new UploadQueue(send, { store, concurrency: 1 })
    await q.open()
    const [a, b] = q.add([jpeg('a.jpg'), jpeg('b.jpg')])
    q.setCaption(a!.id, 'Dhunuchi naach')
    q.start(4)
    expect([...store.rows.values()].map((r) => [r.file.name, r.status, r.albumId])).toEqual([
      ['a.jpg', 'uploading', 4],
      ['b.jpg', 'queued', 4],
    ])
    expect(store.rows.get(a!.id)!.caption).toBe('Dhunuchi naach')

    pending[0]!.resolve([1])
    await settle()
    expect([...store.rows.keys()]).toEqual([b!.id])
  })

  it('says a done file is settled only once the store no longer keeps it', async () => {
    const store = memoryStore()
    let deleted: () => void = () => {}
    store.delete = (id) =>
      new Promise((resolve) => {
        deleted = () => {
          store.rows.delete(id)
          resolve()
        }
      })
    const onSettled = vi.fn()
    const { send, pending } = manualSender()
    const q = new UploadQueue(send, { store, onSettled })
    await q.open()
    q.add([jpeg('a.jpg')])
    q.start(4)
    pending[0]!.resolve([1])
    await settle()
    expect(statuses(q)).toEqual(['done'])
    expect(onSettled).not.toHaveBeenCalled()
    deleted()
    await settle()
    expect(onSettled).toHaveBeenCalledTimes(1)
  })

  it('brings the files back after a reload and sends again what was on its way', async () => {
    const store = memoryStore()
    const first = new UploadQueue(manualSender().send, { store, concurrency: 1 })
    await first.open()
    first.add([jpeg('a.jpg'), jpeg('b.jpg'), jpeg('c.jpg')])
    first.start(4)
    first.add([jpeg('later.jpg')])
    // The tab goes away without a word: nothing but the store is left.

    const { send, pending } = manualSender()
    const second = new UploadQueue(send, { store, concurrency: 2 })
    await second.open()
    expect(second.getItems().map((i) => [i.file.name, i.status])).toEqual([
      ['a.jpg', 'uploading'],
      ['b.jpg', 'uploading'],
      ['c.jpg', 'queued'],
      ['later.jpg', 'ready'],
    ])
    expect(pending.map((p) => [p.item.file.name, p.item.albumId])).toEqual([
      ['a.jpg', 4],
      ['b.jpg', 4],
    ])
  })

  it('says its files outlive the page only once the store has answered', async () => {
    const broken: QueueStore = { ...memoryStore(), load: () => Promise.reject(new Error('private window')) }
    const q = new UploadQueue(manualSender().send, { store: broken })
    expect(q.persistent).toBe(false)
    await q.open()
    expect(q.persistent).toBe(false)
    const working = new UploadQueue(manualSender().send, { store: memoryStore() })
    await working.open()
    expect(working.persistent).toBe(true)
  })

  it('keeps what was being sent as waiting when the page closes, not cancelled', async () => {
    const store = memoryStore()
    const { send, pending } = manualSender()
    const q = new UploadQueue(send, { store })
    await q.open()
    q.add([jpeg('a.jpg')])
    q.start(4)
    q.close()
    expect(pending[0]!.signal.aborted).toBe(true)
    await settle()
    expect([...store.rows.values()].map((r) => r.status)).toEqual(['queued'])
    expect(send).toHaveBeenCalledTimes(1)
  })

  it('tells the sender to give up a cancelled or removed file', async () => {
    const onDiscard = vi.fn()
    const q = new UploadQueue(manualSender().send, { onDiscard, concurrency: 1 })
    const [a, b] = q.add([jpeg('a.jpg'), jpeg('b.jpg')])
    q.start(4)
    q.cancel(a!.id)
    q.remove(b!.id)
    expect(onDiscard.mock.calls.map((call) => (call[0] as UploadItem).file.name)).toEqual(['a.jpg', 'b.jpg'])
  })
})

describe('UploadQueue without a network', () => {
  it('pauses what waits while offline and sends it when the network is back', async () => {
    const network = fakeNetwork(false)
    const onPaused = vi.fn()
    const { send, pending } = manualSender()
    const q = new UploadQueue(send, { network, onPaused })
    await q.open()
    q.add([jpeg('a.jpg'), jpeg('b.jpg')])
    q.start(3)
    expect(statuses(q)).toEqual(['paused', 'paused'])
    expect(onPaused).toHaveBeenCalled()
    expect(send).not.toHaveBeenCalled()

    network.set(true)
    expect(statuses(q)).toEqual(['uploading', 'uploading'])
    expect(pending).toHaveLength(2)
  })

  it('stops what is being sent when the network goes, and pauses it rather than cancelling it', async () => {
    const network = fakeNetwork()
    const { send, pending } = manualSender()
    const q = new UploadQueue(send, { network })
    await q.open()
    q.add([jpeg('a.jpg')])
    q.start(3)
    network.set(false)
    expect(pending[0]!.signal.aborted).toBe(true)
    await settle()
    expect(statuses(q)).toEqual(['paused'])

    network.set(true)
    expect(statuses(q)).toEqual(['uploading'])
    expect(send).toHaveBeenCalledTimes(2)
  })

  it('tries a dropped connection again after a growing wait while the browser says it is online', async () => {
    vi.useFakeTimers()
    try {
      const { send, pending } = manualSender()
      const q = new UploadQueue(send, { network: fakeNetwork(), resumeDelays: [100, 1000] })
      await q.open()
      q.add([jpeg('a.jpg')])
      q.start(3)
      pending[0]!.reject(new ApiError(0, 'network_error', 'Could not reach the server'))
      await vi.advanceTimersByTimeAsync(0)
      expect(statuses(q)).toEqual(['paused'])
      await vi.advanceTimersByTimeAsync(100)
      expect(statuses(q)).toEqual(['uploading'])

      pending[1]!.reject(new ApiError(0, 'network_error', 'Could not reach the server'))
      await vi.advanceTimersByTimeAsync(500)
      expect(statuses(q)).toEqual(['paused'])
      await vi.advanceTimersByTimeAsync(500)
      expect(statuses(q)).toEqual(['uploading'])
      q.dispose()
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('UploadQueue and the service worker', () => {
  const noPages: Turn = { tellPages: () => Promise.resolve(), noWindows: () => Promise.resolve(true) }
  const stored = (id: number, status: StoredUpload['status'], extra: Partial<StoredUpload> = {}): StoredUpload => ({
    id,
    file: jpeg(`${id}.jpg`),
    caption: '',
    status,
    albumId: 4,
    error: null,
    ...extra,
  })

  it('sends nothing while the worker holds the lock, then shows what it recorded and sends the rest', async () => {
    const locks = new FakeLocks()
    const store = memoryStore()
    for (const r of [stored(1, 'uploading'), stored(2, 'paused'), stored(3, 'paused')]) await store.save(r)
    // The worker is sending the kept queue when the tab opens.
    let workerDone!: () => void
    const worker = sendWhenFree(() => new Promise<void>((r) => (workerDone = r)), noPages, locks)
    await settle()

    const { send, pending } = manualSender()
    const onSettled = vi.fn()
    const onUploaded = vi.fn()
    const q = new UploadQueue(send, { store, lock: (signal) => holdForPage(signal, locks), onSettled, onUploaded })
    const opening = q.open()
    await settle()
    // The kept files are shown at once, waiting; none is sent.
    expect(statuses(q)).toEqual(['queued', 'queued', 'queued'])
    expect(send).not.toHaveBeenCalled()

    // The worker finished one, Pujo refused another, the network went before the third.
    const refused = { code: 'unsupported_media_type', message: 'not a photo', fields: {}, retryable: false }
    await store.save(stored(1, 'done', { photoIds: [77] }))
    await store.save(stored(2, 'failed', { error: refused }))
    await store.save(stored(3, 'paused'))
    workerDone()
    await worker
    await opening

    expect(q.getItems().map((i) => [i.id, i.status, i.photoIds, i.error?.code ?? null])).toEqual([
      [1, 'done', [77], null],
      [2, 'failed', [], 'unsupported_media_type'],
      [3, 'uploading', [], null],
    ])
    expect(pending.map((p) => p.item.id)).toEqual([3])
    // The done file was shown: the store forgets it, and its address may go.
    await settle()
    expect([...store.rows.keys()]).toEqual([2, 3])
    expect(onSettled.mock.calls.map(([item]) => (item as UploadItem).id)).toEqual([1])
    expect(onUploaded).toHaveBeenCalledTimes(1)
    expect(locks.held).toEqual(['shared'])
  })

  it('shows once, then forgets, the files the worker sent while no page was open', async () => {
    const store = memoryStore()
    await store.save(stored(1, 'done', { photoIds: [5] }))
    await store.save(stored(2, 'paused'))
    const onSettled = vi.fn()
    const { send, pending } = manualSender()
    const q = new UploadQueue(send, { store, onSettled, lock: (signal) => holdForPage(signal, new FakeLocks()) })
    await q.open()
    expect(q.getItems().map((i) => [i.id, i.status, i.photoIds])).toEqual([
      [1, 'done', [5]],
      [2, 'uploading', []],
    ])
    expect(pending).toHaveLength(1)
    await settle()
    expect([...store.rows.keys()]).toEqual([2])
    expect(onSettled).toHaveBeenCalledTimes(1)
  })

  it('drops a file shown while waiting that another sender settled meanwhile', async () => {
    const locks = new FakeLocks()
    const store = memoryStore()
    await store.save(stored(1, 'paused'))
    let workerDone!: () => void
    const worker = sendWhenFree(() => new Promise<void>((r) => (workerDone = r)), noPages, locks)
    await settle()
    const { send } = manualSender()
    const q = new UploadQueue(send, { store, lock: (signal) => holdForPage(signal, locks) })
    const opening = q.open()
    await settle()
    const [added] = q.add([jpeg('new.jpg')])
    expect(q.getItems().map((i) => i.id)).toEqual([1, added!.id])
    await store.delete(1)
    workerDone()
    await worker
    await opening
    expect(q.getItems().map((i) => i.id)).toEqual([added!.id])
    expect(send).not.toHaveBeenCalled()
  })

  it('lets go of the lock once what was in flight is recorded, and stops waiting for it when closed', async () => {
    const locks = new FakeLocks()
    const store = memoryStore()
    const { send } = manualSender()
    const q = new UploadQueue(send, { store, lock: (signal) => holdForPage(signal, locks) })
    await q.open()
    q.add([jpeg('a.jpg')])
    q.start(4)
    expect(locks.held).toEqual(['shared'])
    q.close()
    await settle()
    expect(locks.held).toEqual([])
    expect([...store.rows.values()].map((r) => r.status)).toEqual(['queued'])
    // The worker may send now, and finds the file waiting.
    await expect(sendWhenFree(() => store.load(), noPages, locks)).resolves.toMatchObject({ sent: true })

    let workerDone!: () => void
    void sendWhenFree(() => new Promise<void>((r) => (workerDone = r)), noPages, locks)
    await settle()
    const waiting = new UploadQueue(send, { store, lock: (signal) => holdForPage(signal, locks) })
    const opening = waiting.open()
    await settle()
    waiting.close()
    await opening
    workerDone()
    await settle()
    expect(locks.held).toEqual([])
  })

  it('keeps the bytes it will send: the data saver’s copy, not the original', async () => {
    const store = memoryStore()
    const q = new UploadQueue(manualSender().send, { store })
    await q.open()
    const copy = jpeg('pandal.jpg', 20_000)
    q.add([{ file: copy, originalSize: 400_000 }])
    q.start(4)
    expect(store.rows.size).toBe(1)
    const kept = [...store.rows.values()][0]!
    expect(kept.file).toBe(copy)
    expect(kept.originalSize).toBe(400_000)
  })
})
