import { afterEach, describe, expect, it, vi } from 'vitest'
import { REGISTER_DELAY_MS, UPLOAD_SYNC_TAG, keepShell, onUploadSync, registerServiceWorker, requestUploadSync } from './serviceWorker'

/** A stand-in for navigator.serviceWorker. */
function fakeContainer(registration: unknown) {
  const target = new EventTarget()
  const container = Object.assign(target, {
    register: vi.fn(() => Promise.resolve(registration)),
    getRegistration: vi.fn(() => Promise.resolve(registration)),
  })
  Object.defineProperty(window.navigator, 'serviceWorker', { value: container, configurable: true })
  return container
}

afterEach(() => {
  // jsdom has no service workers: take the stand-in away again.
  delete (window.navigator as unknown as Record<string, unknown>).serviceWorker
})

describe('service worker helpers', () => {
  it('registers /sw.js a few seconds after the page has loaded, out of its photos\' way', () => {
    vi.useFakeTimers()
    try {
      const container = fakeContainer(undefined)
      vi.stubGlobal('caches', {})
      registerServiceWorker()
      expect(document.readyState).toBe('complete')
      vi.advanceTimersByTime(REGISTER_DELAY_MS - 1)
      expect(container.register).not.toHaveBeenCalled()
      vi.advanceTimersByTime(1)
      expect(container.register).toHaveBeenCalledWith('/sw.js')
    } finally {
      vi.useRealTimers()
    }
  })

  it('keeps the files the worker names that the cache lacks, then tells it', async () => {
    const posted: unknown[] = []
    const worker = {
      postMessage: (message: { type: string }, ports?: MessagePort[]) => {
        posted.push(message.type)
        if (message.type === 'pujo:shell') ports![0]!.postMessage({ cache: 'pujo-shell-abc', files: ['/', '/assets/a.js', '/icons/i.png'] })
      },
    } as unknown as ServiceWorker
    const addAll = vi.fn((_files: string[]) => Promise.resolve())
    const cache = { keys: () => Promise.resolve([new Request('http://localhost/assets/a.js')]), addAll }
    const open = vi.fn((_name: string) => Promise.resolve(cache))
    const kept = await keepShell(worker, { open } as unknown as CacheStorage)
    expect(open).toHaveBeenCalledWith('pujo-shell-abc')
    expect(addAll).toHaveBeenCalledWith(['/', '/icons/i.png'])
    expect(kept).toBe(2)
    expect(posted).toEqual(['pujo:shell', 'pujo:shell-kept'])
  })

  it('asks for the upload sync where the browser has Background Sync, and says when it has not', async () => {
    const sync = { register: vi.fn(() => Promise.resolve()) }
    fakeContainer({ sync })
    await expect(requestUploadSync()).resolves.toBe(true)
    expect(sync.register).toHaveBeenCalledWith(UPLOAD_SYNC_TAG)

    fakeContainer({})
    await expect(requestUploadSync()).resolves.toBe(false)
    delete (window.navigator as unknown as Record<string, unknown>).serviceWorker
    await expect(requestUploadSync()).resolves.toBe(false)
  })

  it('hears the service worker say uploads may go, and nothing else', () => {
    const container = fakeContainer(undefined)
    const listener = vi.fn()
    const stop = onUploadSync(listener)
    container.dispatchEvent(new MessageEvent('message', { data: { type: 'something else' } }))
    container.dispatchEvent(new MessageEvent('message', { data: { type: 'pujo:send-uploads' } }))
    expect(listener).toHaveBeenCalledTimes(1)
    stop()
    container.dispatchEvent(new MessageEvent('message', { data: { type: 'pujo:send-uploads' } }))
    expect(listener).toHaveBeenCalledTimes(1)
  })
})
