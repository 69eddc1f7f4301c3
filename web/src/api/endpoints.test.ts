import { describe, expect, it } from 'vitest'
import { apiError, json, stubApi } from '../test/helpers'
import { ApiError, parseRetryAfter, query } from './client'
import * as api from './endpoints'

const empty = () => json({ items: [], next_cursor: null })

describe('endpoints', () => {
  it('builds list URLs with limit, cursor and filters, leaving out empty ones', async () => {
    const calls = stubApi({ 'GET /api/v1/photos': empty, 'GET /api/v1/pandals': empty, 'GET /api/v1/albums': empty })
    await api.listPhotos({ cursor: 'abc+/=', limit: 30, pandal: 4 })
    await api.listPandals({ city: 'Kolkata', year: undefined, cursor: null })
    await api.listAlbums({ owner: 'durga' })
    expect(calls.map((c) => [c.path, Object.fromEntries(c.search)])).toEqual([
      ['/api/v1/photos', { limit: '30', cursor: 'abc+/=', pandal: '4' }],
      ['/api/v1/pandals', { city: 'Kolkata' }],
      ['/api/v1/albums', { owner: 'durga' }],
    ])
  })

  it('answers null from GET /auth/session when nobody is logged in, and throws errors', async () => {
    stubApi({ 'GET /api/v1/auth/session': () => json({ user: null }) })
    await expect(api.getMe()).resolves.toBeNull()
    stubApi({ 'GET /api/v1/auth/session': () => apiError(503, 'unavailable') })
    await expect(api.getMe()).rejects.toBeInstanceOf(ApiError)
  })

  it('sends the documented methods and bodies', async () => {
    const calls = stubApi({
      'POST /api/v1/auth/login': () => json({ id: 1 }),
      'PUT /api/v1/photos/3/like': () => json({ like_count: 1, liked_by_me: true }),
      'DELETE /api/v1/photos/3/like': () => json({ like_count: 0, liked_by_me: false }),
      'DELETE /api/v1/me': () => json(null, 204),
      'PUT /api/v1/me/password': () => json(null, 204),
      'POST /api/v1/albums': () => json({ id: 9 }, 201),
    })
    await api.login('durga', 'correct horse')
    await expect(api.setLiked(3, true)).resolves.toEqual({ like_count: 1, liked_by_me: true })
    await api.setLiked(3, false)
    await api.deleteMe('pw')
    await api.changePassword('old', 'new password!')
    await api.createAlbum({ title: 'Bagbazar', visibility: 'private', pandal_id: null })
    expect(calls.map((c) => [c.method, c.path, c.body])).toEqual([
      ['POST', '/api/v1/auth/login', { login: 'durga', password: 'correct horse' }],
      ['PUT', '/api/v1/photos/3/like', undefined],
      ['DELETE', '/api/v1/photos/3/like', undefined],
      ['DELETE', '/api/v1/me', { password: 'pw' }],
      ['PUT', '/api/v1/me/password', { current_password: 'old', new_password: 'new password!' }],
      ['POST', '/api/v1/albums', { title: 'Bagbazar', visibility: 'private', pandal_id: null }],
    ])
  })

  it('escapes usernames and search text', async () => {
    const calls = stubApi({
      'GET /api/v1/users/a.b-c_d': () => json({ user: {}, albums: [] }),
      'GET /api/v1/search': () => json({ photos: [], albums: [], pandals: [] }),
    })
    await api.getProfile('a.b-c_d')
    await api.search('বাগবাজার & co', 24)
    expect(calls[1]!.search.get('q')).toBe('বাগবাজার & co')
    expect(calls[1]!.search.get('limit')).toBe('24')
  })

  it('reads Retry-After on a 429', async () => {
    stubApi({ 'POST /api/v1/auth/login': () => json({ error: { code: 'rate_limited', message: 'x' } }, 429, { 'Retry-After': '12' }) })
    await expect(api.login('a', 'b')).rejects.toMatchObject({ code: 'rate_limited', retryAfter: 12 })
  })
})

describe('client helpers', () => {
  it('query() skips null, undefined and empty values', () => {
    expect(query({ a: 1, b: null, c: undefined, d: '', e: 'x y' })).toBe('?a=1&e=x+y')
    expect(query({})).toBe('')
  })

  it('parseRetryAfter takes seconds or an HTTP date', () => {
    expect(parseRetryAfter('5')).toBe(5)
    expect(parseRetryAfter(null)).toBeNull()
    expect(parseRetryAfter('soon')).toBeNull()
    const now = Date.parse('2025-10-01T10:00:00Z')
    expect(parseRetryAfter('Wed, 01 Oct 2025 10:01:00 GMT', now)).toBe(60)
  })
})
