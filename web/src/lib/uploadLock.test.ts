import { describe, expect, it, vi } from 'vitest'
import { FakeLocks } from '../test/fakeLocks'
import { UPLOAD_LOCK, browserLocks, holdForPage, sendWhenFree, type Locks, type Turn } from './uploadLock'

const settle = () => new Promise((r) => setTimeout(r, 0))

/** A worker's turn: how it tells the pages, and whether there are any. */
function turn(noWindows = true, patienceMs = 50): Turn & { told: number } {
  const t = {
    told: 0,
    tellPages: async () => void t.told++,
    noWindows: async () => noWindows,
    patienceMs,
  }
  return t
}

describe('the upload lock', () => {
  it('lets the worker send only while no page holds it, and tells the page to otherwise', async () => {
    const locks = new FakeLocks()
    const page = await holdForPage(new AbortController().signal, locks)
    expect(locks.held).toEqual(['shared'])
    const send = vi.fn(() => Promise.resolve('sent'))
    const worker = turn()
    const noWindows = vi.spyOn(worker, 'noWindows')
    await expect(sendWhenFree(send, worker, locks)).resolves.toEqual({ sent: false })
    expect(send).not.toHaveBeenCalled()
    expect(worker.told).toBe(1)
    // It stopped waiting: the page may go on holding it.
    expect(locks.held).toEqual(['shared'])

    page()
    await settle()
    expect(locks.held).toEqual([])
    await expect(sendWhenFree(send, worker, locks)).resolves.toEqual({ sent: true, value: 'sent' })
    expect(worker.told).toBe(1)
    // With Web Locks, the windows are not what decides.
    expect(noWindows).not.toHaveBeenCalled()
  })

  it('sends after all when the page holding the lock was closing and lets go within the patience', async () => {
    const locks = new FakeLocks()
    const page = await holdForPage(new AbortController().signal, locks)
    const send = vi.fn(() => Promise.resolve('sent'))
    const worker = turn(true, 5_000)
    const attempt = sendWhenFree(send, worker, locks)
    await settle()
    expect(worker.told).toBe(1)
    expect(send).not.toHaveBeenCalled()
    page()
    await expect(attempt).resolves.toEqual({ sent: true, value: 'sent' })
  })

  it('makes a page that opens while the worker sends wait until it is done', async () => {
    const locks = new FakeLocks()
    let finish!: () => void
    const sending = sendWhenFree(() => new Promise<void>((r) => (finish = r)), turn(), locks)
    await settle()
    expect(locks.held).toEqual(['exclusive'])

    let held = false
    const page = holdForPage(new AbortController().signal, locks).then((release) => {
      held = true
      return release
    })
    await settle()
    expect(held).toBe(false)
    finish()
    await sending
    ;(await page)()
    expect(held).toBe(true)
  })

  it('lets two pages hold it together', async () => {
    const locks = new FakeLocks()
    const a = await holdForPage(new AbortController().signal, locks)
    const b = await holdForPage(new AbortController().signal, locks)
    expect(locks.held).toEqual(['shared', 'shared'])
    a()
    b()
  })

  it('gives up waiting when the page closes first', async () => {
    const locks = new FakeLocks()
    let finish!: () => void
    void sendWhenFree(() => new Promise<void>((r) => (finish = r)), turn(), locks)
    await settle()
    const closing = new AbortController()
    const page = holdForPage(closing.signal, locks)
    closing.abort()
    await expect(page).rejects.toMatchObject({ name: 'AbortError' })
    finish()
  })

  it('lets go when the worker’s sending fails, and passes the failure on', async () => {
    const locks = new FakeLocks()
    await expect(sendWhenFree(() => Promise.reject(new Error('offline again')), turn(), locks)).rejects.toThrow('offline again')
    expect(locks.held).toEqual([])
  })

  it('without Web Locks: the page holds nothing, the worker sends only when no window is open', async () => {
    const release = await holdForPage(new AbortController().signal, null)
    expect(release).toBeTypeOf('function')
    const send = vi.fn(() => Promise.resolve(1))
    const open = turn(false)
    await expect(sendWhenFree(send, open, null)).resolves.toEqual({ sent: false })
    expect(send).not.toHaveBeenCalled()
    expect(open.told).toBe(1)
    const none = turn(true)
    await expect(sendWhenFree(send, none, null)).resolves.toEqual({ sent: true, value: 1 })
    expect(none.told).toBe(0)
  })

  it('finds navigator.locks where the browser has it, under the one name', async () => {
    expect(browserLocks()).toBeNull()
    const locks = new FakeLocks()
    const request = vi.spyOn(locks, 'request')
    vi.stubGlobal('navigator', { locks: locks as Locks })
    expect(browserLocks()).toBe(locks)
    await holdForPage(new AbortController().signal)
    expect(request.mock.calls[0]![0]).toBe(UPLOAD_LOCK)
    expect(UPLOAD_LOCK).toBe('pujo-uploads')
  })
})
