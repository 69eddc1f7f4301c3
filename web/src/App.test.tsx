import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { App } from './App'
import { STORAGE_KEY } from './i18n'
import { ME, json, photo, renderWithProviders, stubApi } from './test/helpers'

const health = () => json({ status: 'ok', version: '0.1.0' })
const anonymous = () => json({ user: null })
const feed = () => json({ items: [photo(1), photo(2, { caption: '' })], next_cursor: null })

describe('App', () => {
  it('renders the header, nav, footer and the newest photos', async () => {
    const calls = stubApi({ 'GET /api/v1/health': health, 'GET /api/v1/auth/session': anonymous, 'GET /api/v1/photos': feed })
    renderWithProviders(<App />)

    const nav = screen.getByRole('navigation', { name: 'Main' })
    expect(within(nav).getAllByRole('link').map((a) => [a.textContent, a.getAttribute('href')])).toEqual([
      ['Home', '/'],
      ['Pandals', '/pandals'],
      ['Search', '/search'],
      ['Upload', '/upload'],
    ])
    expect(within(nav).getByRole('link', { name: 'Home' }).getAttribute('aria-current')).toBe('page')
    expect(screen.getByRole('link', { name: 'Skip to main content' }).getAttribute('href')).toBe('#main')

    expect(await screen.findByRole('heading', { level: 1, name: 'Durga Puja, one pandal at a time' })).toBeTruthy()
    const grid = await screen.findByRole('list', { name: 'Newest photos' })
    const images = within(grid).getAllByRole('img')
    expect(images.map((img) => img.getAttribute('alt'))).toEqual(['Pandal 1', 'Photo by Durga Das'])
    expect(images[0]!.getAttribute('srcset')).toBe('/media/1/thumb 400w, /media/1/medium 800w, /media/1/display 1600w')
    expect(await screen.findByText('Server: ok · version 0.1.0')).toBeTruthy()
    expect(await screen.findByRole('link', { name: 'Log in' })).toBeTruthy()
    const feedCall = calls.find((c) => c.path === '/api/v1/photos')!
    expect(feedCall.search.get('limit')).toBe('30')
    expect(feedCall.search.has('cursor')).toBe(false)
  })

  it('navigates in the page, names the document and moves focus to the heading', async () => {
    stubApi({
      'GET /api/v1/health': health,
      'GET /api/v1/auth/session': anonymous,
      'GET /api/v1/photos': feed,
      'GET /api/v1/pandals/facets': () => json({ cities: [{ city: 'Kolkata', count: 3 }], years: [{ year: 2025, count: 3 }] }),
      'GET /api/v1/pandals': () => json({ items: [], next_cursor: null }),
    })
    renderWithProviders(<App />)
    await screen.findByRole('heading', { level: 1 })

    const nav = screen.getByRole('navigation', { name: 'Main' })
    fireEvent.click(within(nav).getByRole('link', { name: 'Pandals' }))

    const heading = await screen.findByRole('heading', { level: 1, name: 'Pandals' })
    expect(within(nav).getByRole('link', { name: 'Pandals' }).getAttribute('aria-current')).toBe('page')
    expect(within(nav).getByRole('link', { name: 'Home' }).getAttribute('aria-current')).toBeNull()
    await waitFor(() => expect(document.title).toBe('Pandals · Pujo'))
    expect(document.activeElement).toBe(heading)
    expect(await screen.findByRole('option', { name: 'Kolkata (3)' })).toBeTruthy()
  })

  it('shows a friendly Not found for unknown paths and private albums', async () => {
    stubApi({ 'GET /api/v1/health': health, 'GET /api/v1/auth/session': anonymous })
    const first = renderWithProviders(<App />, { route: '/no-such-page' })
    expect(await screen.findByRole('heading', { level: 1, name: 'Not found' })).toBeTruthy()
    first.unmount()

    renderWithProviders(<App />, { route: '/albums/42' })
    expect(await screen.findByRole('heading', { level: 1, name: 'Not found' })).toBeTruthy()
    expect(screen.getByText(/may be private or deleted/)).toBeTruthy()
  })

  it('switches to Bengali and remembers it', async () => {
    stubApi({ 'GET /api/v1/health': health, 'GET /api/v1/auth/session': anonymous, 'GET /api/v1/photos': feed })
    renderWithProviders(<App />)
    fireEvent.click(screen.getByRole('button', { name: 'Language: বাংলা' }))

    const nav = await screen.findByRole('navigation', { name: 'প্রধান' })
    expect(within(nav).getAllByRole('link').map((a) => a.textContent)).toEqual(['প্রথম পাতা', 'প্যান্ডেল', 'খুঁজুন', 'আপলোড'])
    // The document's language follows in an effect, which may run a moment later.
    await waitFor(() => expect(document.documentElement.lang).toBe('bn'))
    expect(window.localStorage.getItem(STORAGE_KEY)).toBe('bn')
    expect(await screen.findByRole('heading', { level: 1, name: 'দুর্গাপুজো, এক এক করে প্যান্ডেল' })).toBeTruthy()
  })

  it('shows the signed-in person and logs out', async () => {
    const calls = stubApi({
      'GET /api/v1/health': health,
      'GET /api/v1/auth/session': () => json({ user: ME }),
      'GET /api/v1/photos': feed,
      'POST /api/v1/auth/logout': () => json(null, 204),
    })
    renderWithProviders(<App />)
    expect(await screen.findByRole('link', { name: 'Your profile: Durga Das' })).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Log out' }))

    expect(await screen.findByRole('link', { name: 'Log in' })).toBeTruthy()
    expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v1/auth/logout')).toBe(true)
  })
})
