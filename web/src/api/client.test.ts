import { describe, expect, it, vi } from 'vitest'
import { ApiError, apiErrorFromBody, apiFetch, apiSend, getHealth } from './client'

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected the promise to reject')
}

describe('apiErrorFromBody', () => {
  it('parses the server error shape with fields', () => {
    const err = apiErrorFromBody(422, {
      error: {
        code: 'validation_failed',
        message: 'Some fields are invalid',
        fields: { year: 'must be between 1900 and 2100', city: 'is required' },
      },
    })
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toBeInstanceOf(Error)
    expect(err.status).toBe(422)
    expect(err.code).toBe('validation_failed')
    expect(err.message).toBe('Some fields are invalid')
    expect(err.fields).toEqual({ year: 'must be between 1900 and 2100', city: 'is required' })
  })

  it('defaults fields to an empty object and joins list messages', () => {
    expect(apiErrorFromBody(404, { error: { code: 'not_found', message: 'No such pandal' } }).fields).toEqual({})
    expect(
      apiErrorFromBody(422, { error: { code: 'bad', message: 'x', fields: { tags: ['too long', 'duplicate'] } } }).fields,
    ).toEqual({ tags: 'too long; duplicate' })
  })

  it('falls back to an http_<status> code for other bodies', () => {
    const err = apiErrorFromBody(502, '<html>Bad gateway</html>', 'Bad Gateway')
    expect(err.code).toBe('http_502')
    expect(err.message).toBe('Request failed with HTTP 502 Bad Gateway')
    expect(apiErrorFromBody(500, { error: 'oops' }).code).toBe('http_500')
  })
})

describe('apiFetch', () => {
  it('sends same-origin credentials and returns parsed JSON', async () => {
    const fetchMock = vi.fn(async () => jsonResponse({ id: 7, name: 'Bagbazar Sarbojanin' }))
    vi.stubGlobal('fetch', fetchMock)

    await expect(apiFetch('/api/v1/pandals/7')).resolves.toEqual({ id: 7, name: 'Bagbazar Sarbojanin' })
    const [, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit]
    expect(init.credentials).toBe('same-origin')
    expect(new Headers(init.headers).get('Accept')).toBe('application/json')
  })

  it('throws a typed ApiError from an error response', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        jsonResponse({ error: { code: 'validation_failed', message: 'Invalid album', fields: { title: 'is required' } } }, 422),
      ),
    )

    const err = await rejection(apiSend('POST', '/api/v1/albums', { title: '' }))
    expect(err).toBeInstanceOf(ApiError)
    const apiErr = err as ApiError
    expect(apiErr.status).toBe(422)
    expect(apiErr.code).toBe('validation_failed')
    expect(apiErr.message).toBe('Invalid album')
    expect(apiErr.fields).toEqual({ title: 'is required' })
  })

  it('sends JSON bodies with a JSON content type', async () => {
    const fetchMock = vi.fn(async () => new Response(null, { status: 204 }))
    vi.stubGlobal('fetch', fetchMock)

    await expect(apiSend('POST', '/api/v1/photos/1/like')).resolves.toBeUndefined()
    await apiSend('PATCH', '/api/v1/albums/2', { title: 'Kumartuli 2025' })
    const [, init] = fetchMock.mock.calls[1] as unknown as [string, RequestInit]
    expect(init.method).toBe('PATCH')
    expect(init.body).toBe('{"title":"Kumartuli 2025"}')
    expect(new Headers(init.headers).get('Content-Type')).toBe('application/json')
  })

  it('turns network failures into network_error', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))))
    const err = (await rejection(apiFetch('/api/v1/health'))) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.code).toBe('network_error')
    expect(err.status).toBe(0)
  })

  it('rejects a success response that is not JSON', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('<!doctype html><title>Pujo</title>', { status: 200 })))
    const err = (await rejection(apiFetch('/api/v1/health'))) as ApiError
    expect(err.code).toBe('invalid_response')
  })
})

describe('getHealth', () => {
  it('returns status and version', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => jsonResponse({ status: 'ok', version: '1.2.3', db: 'ok' })))
    await expect(getHealth()).resolves.toEqual({ status: 'ok', version: '1.2.3' })
  })

  it('rejects a body without a version', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => jsonResponse({ status: 'ok' })))
    const err = (await rejection(getHealth())) as ApiError
    expect(err.code).toBe('invalid_response')
  })
})
