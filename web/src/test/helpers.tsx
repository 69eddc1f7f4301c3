/**
 * Test helpers: render inside the site's providers, and answer `fetch` from
 * a table of routes (unit tests only; the end-to-end suite uses the real server).
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { render } from '@testing-library/react'
import type { ReactNode } from 'react'
import { MemoryRouter } from 'react-router'
import { vi } from 'vitest'
import type { Me, Photo } from '../api/types'
import { I18nProvider, type Lang } from '../i18n'

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

export function apiError(status: number, code: string, message = code, fields?: Record<string, string>): Response {
  return json({ error: { code, message, ...(fields ? { fields } : {}) } }, status)
}

export interface Call {
  method: string
  path: string
  search: URLSearchParams
  body: unknown
  headers: Headers
}

type Handler = (call: Call) => Response | Promise<Response>

/**
 * Stubs `fetch` with handlers keyed by "METHOD /path" (no query string).
 * Unknown routes answer 404 not_found. Returns the calls made, in order.
 */
export function stubApi(routes: Record<string, Handler>): Call[] {
  const calls: Call[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input), 'http://pujo.test')
      const method = (init?.method ?? 'GET').toUpperCase()
      const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined
      const call = { method, path: url.pathname, search: url.searchParams, body, headers: new Headers(init?.headers) }
      calls.push(call)
      const handler = routes[`${method} ${url.pathname}`]
      return handler ? handler(call) : apiError(404, 'not_found')
    }),
  )
  return calls
}

export function testClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } } })
}

export function renderWithProviders(
  ui: ReactNode,
  { route = '/', lang = 'en', client = testClient() }: { route?: string; lang?: Lang; client?: QueryClient } = {},
) {
  const result = render(
    <QueryClientProvider client={client}>
      <I18nProvider initial={lang}>
        <MemoryRouter initialEntries={[route]}>{ui}</MemoryRouter>
      </I18nProvider>
    </QueryClientProvider>,
  )
  return { ...result, client }
}

export const ME: Me = {
  id: 1,
  username: 'durga',
  display_name: 'Durga Das',
  bio: '',
  role: 'user',
  created_at: '2025-10-01T10:00:00Z',
  email: 'durga@example.com',
  gps_privacy: 'coarse',
}

export function photo(id: number, extra: Partial<Photo> = {}): Photo {
  return {
    id,
    album_id: 10,
    owner: { id: 1, username: 'durga', display_name: 'Durga Das' },
    caption: `Pandal ${id}`,
    width: 1600,
    height: 1200,
    taken_at: '2025-10-01T18:30:00Z',
    created_at: '2025-10-02T10:00:00Z',
    updated_at: '2025-10-02T10:00:00Z',
    thumbhash: null,
    exif: {},
    location: null,
    like_count: 0,
    comment_count: 0,
    liked_by_me: false,
    urls: { thumb: `/media/${id}/thumb`, medium: `/media/${id}/medium`, display: `/media/${id}/display`, original: null },
    visibility: 'public',
    can_edit: false,
    ...extra,
  }
}
