import { QueryClientProvider } from '@tanstack/react-query'
import { act, renderHook, waitFor } from '@testing-library/react'
import type { ReactNode } from 'react'
import { describe, expect, it } from 'vitest'
import { listPhotos } from '../api/endpoints'
import { json, photo, stubApi, testClient } from '../test/helpers'
import { useCursorList } from './useCursorList'

function wrapper({ children }: { children: ReactNode }) {
  return <QueryClientProvider client={testClient()}>{children}</QueryClientProvider>
}

describe('useCursorList', () => {
  it('follows next_cursor page by page and stops at null', async () => {
    const pages: Record<string, unknown> = {
      '': { items: [photo(9), photo(8)], next_cursor: 'c1' },
      c1: { items: [photo(7), photo(6)], next_cursor: 'c2' },
      c2: { items: [photo(5)], next_cursor: null },
    }
    const calls = stubApi({ 'GET /api/v1/photos': (c) => json(pages[c.search.get('cursor') ?? '']) })
    const { result } = renderHook(() => useCursorList(['feed'], (cursor, signal) => listPhotos({ cursor, limit: 2 }, signal)), {
      wrapper,
    })

    await waitFor(() => expect(result.current.items.map((p) => p.id)).toEqual([9, 8]))
    expect(result.current.hasMore).toBe(true)
    act(() => result.current.loadMore())
    await waitFor(() => expect(result.current.items.map((p) => p.id)).toEqual([9, 8, 7, 6]))
    act(() => result.current.loadMore())
    await waitFor(() => expect(result.current.items.map((p) => p.id)).toEqual([9, 8, 7, 6, 5]))
    expect(result.current.hasMore).toBe(false)

    act(() => result.current.loadMore())
    expect(calls.map((c) => c.search.get('cursor'))).toEqual([null, 'c1', 'c2'])
    expect(calls.every((c) => c.search.get('limit') === '2')).toBe(true)
  })

  it('asks for one page at a time even when told twice', async () => {
    let release: () => void = () => {}
    const calls = stubApi({
      'GET /api/v1/photos': (c) =>
        c.search.get('cursor')
          ? new Promise<Response>((r) => (release = () => r(json({ items: [photo(1)], next_cursor: null }))))
          : json({ items: [photo(2)], next_cursor: 'next' }),
    })
    const { result } = renderHook(() => useCursorList(['feed'], (cursor, signal) => listPhotos({ cursor }, signal)), { wrapper })
    await waitFor(() => expect(result.current.hasMore).toBe(true))
    act(() => result.current.loadMore())
    await waitFor(() => expect(result.current.isLoadingMore).toBe(true))
    act(() => result.current.loadMore())
    release()
    await waitFor(() => expect(result.current.items).toHaveLength(2))
    expect(calls).toHaveLength(2)
  })

  it('does not repeat an item that shows up on two pages', async () => {
    stubApi({
      'GET /api/v1/photos': (c) =>
        json(c.search.get('cursor') ? { items: [photo(2), photo(1)], next_cursor: null } : { items: [photo(3), photo(2)], next_cursor: 'x' }),
    })
    const { result } = renderHook(() => useCursorList(['feed'], (cursor, signal) => listPhotos({ cursor }, signal)), { wrapper })
    await waitFor(() => expect(result.current.hasMore).toBe(true))
    act(() => result.current.loadMore())
    await waitFor(() => expect(result.current.items.map((p) => p.id)).toEqual([3, 2, 1]))
  })

  it('reports an error and waits while disabled', async () => {
    const calls = stubApi({ 'GET /api/v1/photos': () => json({ error: { code: 'unavailable', message: 'x' } }, 503) })
    const { result, rerender } = renderHook(
      ({ enabled }) => useCursorList(['feed'], (cursor, signal) => listPhotos({ cursor }, signal), { enabled }),
      { wrapper, initialProps: { enabled: false } },
    )
    expect(calls).toHaveLength(0)
    rerender({ enabled: true })
    await waitFor(() => expect(result.current.error).toMatchObject({ code: 'unavailable' }))
    expect(result.current.items).toEqual([])
  })
})
