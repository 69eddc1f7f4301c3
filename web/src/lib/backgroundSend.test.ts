import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError, NETWORK_ERROR } from '../api/client'
import { notifyOutcome, outcomeText, sendKeptQueue, type BackgroundDeps, type Notifier } from './backgroundSend'
import type { StoredUpload } from './uploadItem'
import { indexedDbStore } from './uploadStore'
import { stubIndexedDb } from '../test/fakeIndexedDb'

beforeEach(stubIndexedDb)

const photo = (name: string) => new File(['jpeg bytes'], name, { type: 'image/jpeg', lastModified: 1759400000000 })
const row = (id: number, status: StoredUpload['status'], albumId: number | null = 7): StoredUpload => ({
  id,
  file: photo(`${id}.jpg`),
  caption: `Caption ${id}`,
  status,
  albumId,
  error: null,
})

function deps(send: BackgroundDeps['send'], owner: number | null = 1): BackgroundDeps {
  return { signedIn: () => Promise.resolve(owner), store: (o) => indexedDbStore(o), send }
}

const states = async (owner: number) =>
  (await indexedDbStore(owner)!.load()).map((k) => [k.id, k.status, k.photoIds ?? null, k.error?.code ?? null])

describe('sendKeptQueue', () => {
  it('sends the signed-in person’s files on their way, oldest first, and records each as done with its photo', async () => {
    const mine = indexedDbStore(1)!
    for (const r of [row(3, 'paused'), row(1, 'queued'), row(2, 'uploading'), row(4, 'ready', null), row(5, 'failed'), row(6, 'cancelled')]) {
      await mine.save(r)
    }
    await indexedDbStore(2)!.save(row(9, 'paused'))
    const seen: [number, string, number, string][] = []
    const send = vi.fn(async (item: StoredUpload & { albumId: number }) => {
      // While it goes, a page opened now sees it on its way.
      seen.push([item.id, (await states(1)).find((s) => s[0] === item.id)![1] as string, item.albumId, item.caption])
      return [100 + item.id]
    })
    const outcome = await sendKeptQueue(deps(send))
    expect(outcome).toEqual({ owner: 1, done: 3, failed: 0, waiting: 0 })
    expect(seen).toEqual([
      [1, 'uploading', 7, 'Caption 1'],
      [2, 'uploading', 7, 'Caption 2'],
      [3, 'uploading', 7, 'Caption 3'],
    ])
    // The bytes sent are the bytes kept (with the data saver, the page's smaller copy).
    expect(await send.mock.calls[0]![0].file.text()).toBe('jpeg bytes')
    expect(await states(1)).toEqual([
      [1, 'done', [101], null],
      [2, 'done', [102], null],
      [3, 'done', [103], null],
      [4, 'ready', null, null],
      [5, 'failed', null, null],
      [6, 'cancelled', null, null],
    ])
    // Another account's files wait for their owner's session.
    expect(await states(2)).toEqual([[9, 'paused', null, null]])
  })

  it('records a refusal with the server’s reason and goes on with the next file', async () => {
    const mine = indexedDbStore(1)!
    await mine.save(row(1, 'paused'))
    await mine.save(row(2, 'paused'))
    const send = vi.fn(async (item: StoredUpload) => {
      if (item.id === 1) throw new ApiError(413, 'payload_too_large', 'The photo is larger than 30 MB')
      return [7]
    })
    expect(await sendKeptQueue(deps(send))).toEqual({ owner: 1, done: 1, failed: 1, waiting: 0 })
    const kept = await mine.load()
    expect(kept[0]).toMatchObject({
      status: 'failed',
      error: { code: 'payload_too_large', message: 'The photo is larger than 30 MB', retryable: false },
    })
    expect(kept[1]).toMatchObject({ status: 'done', photoIds: [7] })
  })

  it('pauses this file and the rest when the network goes again', async () => {
    const mine = indexedDbStore(1)!
    for (const r of [row(1, 'paused'), row(2, 'queued'), row(3, 'paused')]) await mine.save(r)
    const send = vi.fn(async (item: StoredUpload) => {
      if (item.id === 2) throw new ApiError(0, NETWORK_ERROR, 'Could not reach the server')
      return [50 + item.id]
    })
    expect(await sendKeptQueue(deps(send))).toEqual({ owner: 1, done: 1, failed: 0, waiting: 2 })
    expect(send).toHaveBeenCalledTimes(2)
    expect(await states(1)).toEqual([
      [1, 'done', [51], null],
      [2, 'paused', null, null],
      [3, 'paused', null, null],
    ])
  })

  it('sends nothing when nobody is signed in', async () => {
    await indexedDbStore(1)!.save(row(1, 'paused'))
    const send = vi.fn(() => Promise.resolve([1]))
    expect(await sendKeptQueue(deps(send, null))).toEqual({ owner: null, done: 0, failed: 0, waiting: 0 })
    expect(send).not.toHaveBeenCalled()
    expect(await states(1)).toEqual([[1, 'paused', null, null]])
  })

  it('fails (for the browser to try the sync later) when Pujo cannot be asked who is signed in', async () => {
    const send = vi.fn(() => Promise.resolve([1]))
    const offline = { ...deps(send), signedIn: () => Promise.reject(new ApiError(0, NETWORK_ERROR, 'Could not reach the server')) }
    await expect(sendKeptQueue(offline)).rejects.toMatchObject({ code: NETWORK_ERROR })
  })
})

describe('outcomeText', () => {
  it('says what went and what did not, in English or Bengali, and nothing when nothing happened', () => {
    const outcome = (done: number, failed: number) => ({ owner: 1, done, failed, waiting: 0 })
    expect(outcomeText(outcome(1, 0), 'en-IN')).toBe('1 photo uploaded.')
    expect(outcomeText(outcome(3, 1), 'en-IN')).toBe('3 photos uploaded. 1 could not be uploaded: open Pujo to see why.')
    expect(outcomeText(outcome(2, 0), 'bn-IN')).toBe('২টি ছবি আপলোড হয়েছে।')
    expect(outcomeText(outcome(0, 0), 'en')).toBeNull()
  })
})

describe('notifyOutcome', () => {
  const outcome = { owner: 1, done: 2, failed: 0, waiting: 0 }
  const notifier = (permission: NotificationPermission | null): Notifier & { shown: unknown[] } => {
    const shown: unknown[] = []
    return { shown, permission: () => permission, show: async (title, options) => void shown.push([title, options]) }
  }

  it('shows what went only where the person allowed notifications already', async () => {
    const granted = notifier('granted')
    expect(await notifyOutcome(outcome, 'en-IN', granted)).toBe(true)
    expect(granted.shown).toEqual([['Pujo', { body: '2 photos uploaded.', tag: 'pujo-uploads', lang: 'en-IN', data: { url: '/upload' } }]])
    for (const permission of ['default', 'denied', null] as const) {
      const other = notifier(permission)
      expect(await notifyOutcome(outcome, 'en-IN', other)).toBe(false)
      expect(other.shown).toEqual([])
    }
  })

  it('shows nothing when nothing went, and fails nothing when it cannot show', async () => {
    const granted = notifier('granted')
    expect(await notifyOutcome({ ...outcome, done: 0 }, 'en', granted)).toBe(false)
    expect(granted.shown).toEqual([])
    const broken: Notifier = { permission: () => 'granted', show: () => Promise.reject(new TypeError('no active worker')) }
    expect(await notifyOutcome(outcome, 'en', broken)).toBe(false)
  })
})
