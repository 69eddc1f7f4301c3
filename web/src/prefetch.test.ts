import { afterEach, describe, expect, it, vi } from 'vitest'
import { PHOTO_PAGE_SIZES, prefetchFirstPage } from './prefetch'
import { FEED_PAGE, keys } from './queryClient'
import { json, stubApi, testClient } from './test/helpers'

const photo = { id: 7, album_id: 3 }

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('prefetchFirstPage', () => {
  it('asks for the session and the feed of the home page at once, as the page will', async () => {
    const calls = stubApi({
      'GET /api/v1/auth/session': () => json({ user: null }),
      'GET /api/v1/photos': () => json({ items: [photo], next_cursor: null }),
    })
    const client = testClient()
    prefetchFirstPage(client, '/')
    await vi.waitFor(() => expect(client.getQueryData(keys.feed)).toBeDefined())
    expect(calls.map((c) => c.path).sort()).toEqual(['/api/v1/auth/session', '/api/v1/photos'])
    expect(calls.find((c) => c.path === '/api/v1/photos')?.search.get('limit')).toBe(String(FEED_PAGE))
    expect(client.getQueryData(keys.feed)).toEqual({ pages: [{ items: [photo], next_cursor: null }], pageParams: [null] })
    await vi.waitFor(() => expect(client.getQueryData(keys.me)).toBeNull())
  })

  it('starts the photo page’s image as soon as the photo is known, as the page will draw it', async () => {
    const full = {
      ...photo,
      width: 4000,
      height: 3000,
      urls: { thumb: '/media/7/thumb', medium: '/media/7/medium', display: '/media/7/display', original: null },
    }
    stubApi({ 'GET /api/v1/photos/7': () => json(full) })
    prefetchFirstPage(testClient(), '/photos/7')
    await vi.waitFor(() => expect(document.head.querySelector('link[rel=preload][as=image]')).not.toBeNull())
    const link = document.head.querySelector('link[rel=preload][as=image]')!
    expect(link.getAttribute('imagesrcset')).toBe('/media/7/thumb 400w, /media/7/medium 800w, /media/7/display 1600w')
    expect(link.getAttribute('imagesizes')).toBe(PHOTO_PAGE_SIZES)
    expect(link.getAttribute('fetchpriority')).toBe('high')
    link.remove()
  })

  it('passes an unlisted album link’s key on to every call it prefetches', async () => {
    const key = '0123456789abcdef0123456789abcdef'
    const calls = stubApi({
      'GET /api/v1/photos/7': () => json(photo),
      'GET /api/v1/albums/3': () => json({ id: 3 }),
      'GET /api/v1/albums/3/photos': () => json({ items: [photo], next_cursor: null }),
    })
    const client = testClient()
    prefetchFirstPage(client, '/photos/7', `?key=${key}`)
    prefetchFirstPage(client, '/albums/3', `?key=${key}&utm=x`)
    await vi.waitFor(() => expect(client.getQueryData(keys.albumPhotos(3))).toBeDefined())
    await vi.waitFor(() => expect(client.getQueryData(keys.photo(7))).toEqual(photo))
    const content = calls.filter((c) => c.path !== '/api/v1/auth/session')
    expect(content.length).toBe(3)
    for (const call of content) expect(call.search.get('key')).toBe(key)
  })

  it('asks for a photo on its page, and an album with its photos on its page', async () => {
    const calls = stubApi({
      'GET /api/v1/photos/7': () => json(photo),
      'GET /api/v1/albums/3': () => json({ id: 3 }),
      'GET /api/v1/albums/3/photos': () => json({ items: [photo], next_cursor: null }),
    })
    const client = testClient()
    prefetchFirstPage(client, '/photos/7')
    prefetchFirstPage(client, '/albums/3')
    await vi.waitFor(() => expect(client.getQueryData(keys.albumPhotos(3))).toBeDefined())
    await vi.waitFor(() => expect(client.getQueryData(keys.photo(7))).toEqual(photo))
    expect(client.getQueryData(keys.album(3))).toEqual({ id: 3 })
    expect(calls.map((c) => c.path).filter((p) => p !== '/api/v1/auth/session').sort()).toEqual([
      '/api/v1/albums/3',
      '/api/v1/albums/3/photos',
      '/api/v1/photos/7',
    ])
  })

  it('asks for nothing but the session elsewhere, or for ids the page would refuse', async () => {
    const calls = stubApi({})
    const client = testClient()
    for (const path of ['/pandals', '/photos/0', '/photos/abc', '/albums/1/x', '/search']) prefetchFirstPage(client, path)
    await vi.waitFor(() => expect(calls.length).toBeGreaterThan(0))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(new Set(calls.map((c) => c.path))).toEqual(new Set(['/api/v1/auth/session']))
  })
})
