import { describe, expect, it, vi } from 'vitest'
import { fireEvent, render, screen, within } from '@testing-library/react'
import { App } from './App'

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
}

function mockFetch(impl: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>) {
  const fn = vi.fn(impl)
  vi.stubGlobal('fetch', fn)
  return fn
}

describe('App shell', () => {
  it('renders the header, nav and home page', () => {
    mockFetch(() => new Promise<Response>(() => {}))
    render(<App />)

    const banner = screen.getByRole('banner')
    expect(within(banner).getByRole('link', { name: 'Pujo' }).getAttribute('href')).toBe('/')
    expect(banner.textContent).toMatch(/Durga Puja pandals/)

    const nav = screen.getByRole('navigation', { name: 'Main' })
    const labels = within(nav).getAllByRole('link').map((a) => [a.textContent, a.getAttribute('href')])
    expect(labels).toEqual([
      ['Home', '/'],
      ['Pandals', '/pandals'],
      ['Search', '/search'],
      ['Upload', '/upload'],
    ])
    expect(within(nav).getByRole('link', { name: 'Home' }).getAttribute('aria-current')).toBe('page')

    expect(screen.getByRole('main').id).toBe('main')
    expect(screen.getByRole('link', { name: 'Skip to main content' }).getAttribute('href')).toBe('#main')
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Durga Puja, one pandal at a time')
    expect(screen.getByTestId('server-status').textContent).toBe('Server: checking…')
  })

  it('shows the server version when /api/v1/health succeeds', async () => {
    const fetchMock = mockFetch(async () => jsonResponse({ status: 'ok', version: '0.1.0', uptime_seconds: 5 }))
    render(<App />)

    expect(await screen.findByText('Server: ok · version 0.1.0')).toBeTruthy()
    expect(fetchMock).toHaveBeenCalledTimes(1)
    const [url, init] = fetchMock.mock.calls[0]!
    expect(url).toBe('/api/v1/health')
    expect(init?.credentials).toBe('same-origin')
  })

  it('says the server is unreachable when fetch fails', async () => {
    mockFetch(async () => {
      throw new TypeError('Failed to fetch')
    })
    render(<App />)

    const status = await screen.findByText(/^Server unreachable/)
    expect(status.className).toContain('server-status--down')
    expect(screen.getByTestId('server-status').textContent).not.toMatch(/version/)
  })

  it('says the server is unreachable when health answers with an error', async () => {
    mockFetch(async () => jsonResponse({ error: { code: 'unavailable', message: 'Starting up' } }, 503))
    render(<App />)

    expect(await screen.findByText(/^Server unreachable/)).toBeTruthy()
  })

  it('navigates client-side to a section that says Coming soon', async () => {
    const fetchMock = mockFetch(async () => jsonResponse({ status: 'ok', version: '0.1.0' }))
    render(<App />)
    await screen.findByText('Server: ok · version 0.1.0')

    const nav = screen.getByRole('navigation', { name: 'Main' })
    fireEvent.click(within(nav).getByRole('link', { name: 'Pandals' }))

    expect(window.location.pathname).toBe('/pandals')
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Pandals')
    expect(screen.getByText('Coming soon.')).toBeTruthy()
    expect(within(nav).getByRole('link', { name: 'Pandals' }).getAttribute('aria-current')).toBe('page')
    expect(within(nav).getByRole('link', { name: 'Home' }).getAttribute('aria-current')).toBeNull()
    expect(document.title).toBe('Pandals · Pujo')
    expect(document.activeElement).toBe(screen.getByRole('heading', { level: 1 }))
    // The footer is not re-mounted, so health is not fetched again.
    expect(fetchMock).toHaveBeenCalledTimes(1)
  })

  it('loads a deep link and shows Not found for unknown paths', () => {
    mockFetch(() => new Promise<Response>(() => {}))
    window.history.replaceState(null, '', '/upload/')
    const { unmount } = render(<App />)
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Upload')
    unmount()

    window.history.replaceState(null, '', '/no-such-page')
    render(<App />)
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Page not found')
    expect(screen.getByText('/no-such-page')).toBeTruthy()
  })
})
