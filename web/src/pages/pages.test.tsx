import { act, fireEvent, screen, waitFor, within } from '@testing-library/react'
import { Route, Routes } from 'react-router'
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { fingerprint } from '../api/tus'
import { idbResumeStore } from '../lib/uploadStore'
import { stubIndexedDb } from '../test/fakeIndexedDb'
import { FakeXhr } from '../test/fakeXhr'
import { ME, apiError, json, photo, renderWithProviders, stubApi } from '../test/helpers'
import AlbumPage from './AlbumPage'
import AuditPage from './AuditPage'
import LoginPage from './LoginPage'
import PhotoPage from './PhotoPage'
import PandalsPage from './PandalsPage'
import RegisterPage from './RegisterPage'
import SearchPage from './SearchPage'
import SharedPage from './SharedPage'
import GuestUploadPage from './GuestUploadPage'
import ReviewPage from './ReviewPage'
import WallPage from './WallPage'
import ReportsPage from './ReportsPage'
import UploadPage from './UploadPage'

afterEach(() => {
  FakeXhr.last = null
  FakeXhr.all = []
})

const album = {
  id: 10,
  owner: { id: 1, username: 'durga', display_name: 'Durga Das' },
  title: 'Saptami night',
  description: '',
  visibility: 'private',
  pandal: null,
  cover: null,
  photo_count: 2,
  created_at: '2025-10-02T10:00:00Z',
  updated_at: '2025-10-02T10:00:00Z',
  can_edit: true,
}

describe('LoginPage', () => {
  it('says when the password is wrong and when to try again', async () => {
    let status = 401
    stubApi({
      'POST /api/v1/auth/login': () =>
        status === 401 ? apiError(401, 'unauthorized') : json({ error: { code: 'rate_limited', message: 'x' } }, 429, { 'Retry-After': '60' }),
    })
    renderWithProviders(<LoginPage />, { route: '/login' })
    fireEvent.change(screen.getByLabelText('Username or email'), { target: { value: 'durga' } })
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'wrong password' } })
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }))
    expect((await screen.findByRole('alert')).textContent).toBe('That username or email and password do not match.')

    status = 429
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }))
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('Too many tries. Try again in 60 seconds.'))
  })

  it('logs in and goes where it was asked to', async () => {
    const calls = stubApi({ 'POST /api/v1/auth/login': () => json(ME) })
    renderWithProviders(
      <Routes>
        <Route path="/login" element={<LoginPage />} />
        <Route path="/upload" element={<p>upload page</p>} />
      </Routes>,
      { route: '/login?next=%2Fupload' },
    )
    fireEvent.change(screen.getByLabelText('Username or email'), { target: { value: ' durga ' } })
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse battery' } })
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }))
    expect(await screen.findByText('upload page')).toBeTruthy()
    expect(calls[0]!.body).toEqual({ login: 'durga', password: 'correct horse battery' })
  })
})

describe('RegisterPage', () => {
  it('shows the server’s message next to the field it names', async () => {
    const calls = stubApi({
      'GET /api/v1/proof': () => json({ algorithm: 'SHA-256', salt: '1700000000.aabbccddeeff00112233445566778899', bits: 4 }),
      'POST /api/v1/auth/register': () => apiError(409, 'conflict', 'taken', { username: 'is already taken' }),
    })
    renderWithProviders(<RegisterPage />, { route: '/register' })
    fireEvent.change(screen.getByLabelText('Username'), { target: { value: 'durga' } })
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'd@example.com' } })
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'long enough password' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }))

    await screen.findByText('is already taken')
    const username = screen.getByLabelText('Username')
    expect(username.getAttribute('aria-invalid')).toBe('true')
    expect(username.getAttribute('aria-describedby')).toContain(screen.getByText('is already taken').id)
    expect(screen.getByRole('alert').textContent).toBe('That is already taken.')
    // The account's proof of work went with it, solved for the registration's challenge.
    expect(calls[0]!.search.get('for')).toBe('register')
    const sent = calls.find((c) => c.method === 'POST')!
    expect(sent.headers.get('X-Pujo-Proof')?.startsWith('1700000000.aabbccddeeff00112233445566778899:')).toBe(true)
  })
})

describe('AlbumPage', () => {
  it('shows the owner’s album with its photos and the owner’s controls', async () => {
    stubApi({
      'GET /api/v1/albums/10': () => json(album),
      'GET /api/v1/albums/10/photos': () => json({ items: [photo(1), photo(2)], next_cursor: null }),
    })
    renderWithProviders(
      <Routes>
        <Route path="/albums/:id" element={<AlbumPage />} />
      </Routes>,
      { route: '/albums/10' },
    )
    expect(await screen.findByRole('heading', { level: 1, name: 'Saptami night' })).toBeTruthy()
    expect(screen.getByText('Private')).toBeTruthy()
    expect(screen.getByRole('link', { name: 'Add photos' }).getAttribute('href')).toBe('/upload?album=10')
    const grid = await screen.findByRole('list', { name: 'Photos in this album' })
    fireEvent.click(within(grid).getAllByRole('link')[1]!)
    expect(screen.getByRole('dialog', { name: 'Photo viewer' })).toBeTruthy()
    expect(screen.getByText('Photo 2 of 2')).toBeTruthy()
  })
})

describe('AlbumPage, unlisted', () => {
  const key = '0123456789abcdef0123456789abcdef'

  it('opens with the link key from the address and passes it on to the photos', async () => {
    const calls = stubApi({
      'GET /api/v1/albums/10': () => json({ ...album, visibility: 'unlisted', can_edit: false }),
      'GET /api/v1/albums/10/photos': () =>
        json({ items: [{ ...photo(1), visibility: 'unlisted', link_key: key }], next_cursor: null }),
    })
    renderWithProviders(
      <Routes>
        <Route path="/albums/:id" element={<AlbumPage />} />
      </Routes>,
      { route: `/albums/10?key=${key}` },
    )
    expect(await screen.findByRole('heading', { level: 1, name: 'Saptami night' })).toBeTruthy()
    await screen.findByRole('list', { name: 'Photos in this album' })
    const albumCalls = calls.filter((c) => c.path.startsWith('/api/v1/albums/10'))
    expect(albumCalls.length).toBe(2)
    for (const call of albumCalls) expect(call.search.get('key')).toBe(key)
    expect(screen.queryByRole('heading', { name: 'Link to this album' })).toBeNull()
  })

  it('shows its owner the link and makes a new one on request', async () => {
    const rotated = 'fedcba9876543210fedcba9876543210'
    const calls = stubApi({
      'GET /api/v1/albums/10': () => json({ ...album, visibility: 'unlisted', link_key: key }),
      'GET /api/v1/albums/10/photos': () => json({ items: [], next_cursor: null }),
      'POST /api/v1/albums/10/link': () => json({ ...album, visibility: 'unlisted', link_key: rotated }),
    })
    renderWithProviders(
      <Routes>
        <Route path="/albums/:id" element={<AlbumPage />} />
      </Routes>,
      { route: '/albums/10' },
    )
    const link = await screen.findByRole<HTMLInputElement>('textbox', { name: 'Link to this album' })
    expect(link.value).toMatch(new RegExp(`/albums/10\\?key=${key}$`))
    fireEvent.click(screen.getByRole('button', { name: 'New link' }))
    fireEvent.click(await screen.findByRole('button', { name: 'Yes, make a new link' }))
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v1/albums/10/link')).toBe(true))
    await waitFor(() =>
      expect(screen.getByRole<HTMLInputElement>('textbox', { name: 'Link to this album' }).value).toMatch(
        new RegExp(`key=${rotated}$`),
      ),
    )
  })
})

describe('PhotoPage', () => {
  it('likes, comments and shows the EXIF summary', async () => {
    let liked = false
    let comments: unknown[] = []
    const p = photo(5, {
      exif: { camera: 'Pixel 8', exposure: 0.004, aperture: 1.8, iso: 200 },
      location: { lat: 22.6, lon: 88.37, precision: 'coarse' },
    })
    const calls = stubApi({
      'GET /api/v1/auth/session': () => json({ user: ME }),
      'GET /api/v1/photos/5': () => json(p),
      'GET /api/v1/albums/10/photos': () => json({ items: [p], next_cursor: null }),
      'GET /api/v1/photos/5/comments': () => json({ items: comments, next_cursor: null }),
      'PUT /api/v1/photos/5/like': () => {
        liked = true
        return json({ like_count: 1, liked_by_me: true })
      },
      'POST /api/v1/photos/5/comments': (c) => {
        const body = (c.body as { body: string }).body
        comments = [{ id: 1, photo_id: 5, author: ME, body, created_at: '2025-10-03T10:00:00Z', can_delete: true }]
        return json(comments[0], 201)
      },
    })
    renderWithProviders(
      <Routes>
        <Route path="/photos/:id" element={<PhotoPage />} />
      </Routes>,
      { route: '/photos/5' },
    )
    expect(await screen.findByRole('heading', { level: 1, name: 'Pandal 5' })).toBeTruthy()
    expect(screen.getByText('1/250 s · ƒ/1.8 · ISO 200')).toBeTruthy()
    expect(screen.getByText('Approximate location')).toBeTruthy()

    const like = await screen.findByRole('button', { name: /Like/ })
    expect(like.getAttribute('aria-pressed')).toBe('false')
    fireEvent.click(like)
    await waitFor(() => expect(screen.getByRole('button', { name: /Like/ }).getAttribute('aria-pressed')).toBe('true'))
    expect(liked).toBe(true)
    expect(screen.getByText('1 like')).toBeTruthy()

    fireEvent.change(screen.getByLabelText('Add a comment'), { target: { value: 'শুভ মহালয়া' } })
    fireEvent.click(screen.getByRole('button', { name: 'Post comment' }))
    expect(await screen.findByRole('heading', { name: '1 comment' })).toBeTruthy()
    expect(await screen.findByText('শুভ মহালয়া', { selector: '.comment__body' })).toBeTruthy()
    expect((screen.getByLabelText('Add a comment') as HTMLTextAreaElement).value).toBe('')
    expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v1/photos/5/comments')).toBe(true)
  })
})

/** The requests made so far, once there are `n`. */
const requests = (n: number) =>
  vi.waitFor(() => {
    if (FakeXhr.all.length < n) throw new Error(`${FakeXhr.all.length} requests, not ${n} yet`)
    return FakeXhr.all.map((x) => `${x.method} ${x.url}`)
  })

describe('UploadPage', () => {
  it('uploads each file resumably with its own progress bar, and retries a failure showing the server’s words', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    stubIndexedDb()
    stubApi({
      'GET /api/v1/auth/session': () => json({ user: ME }),
      'GET /api/v1/users/durga': () => json({ user: ME, albums: [album] }),
    })
    renderWithProviders(
      <Routes>
        <Route path="/upload" element={<UploadPage />} />
      </Routes>,
      { route: '/upload?album=10' },
    )
    const picker = await screen.findByLabelText('Choose photos')
    const files = [
      new File(['a'.repeat(200)], 'one.jpg', { type: 'image/jpeg' }),
      new File(['b'.repeat(100)], 'two.jpg', { type: 'image/jpeg' }),
    ]
    fireEvent.change(picker, { target: { files } })
    fireEvent.change(screen.getByLabelText('Caption for one.jpg'), { target: { value: 'Ashtami' } })
    fireEvent.click(screen.getByRole('button', { name: 'Upload 2 photos' }))

    expect(await requests(2)).toEqual(['POST /api/v1/uploads', 'POST /api/v1/uploads'])
    expect(FakeXhr.all[0]!.headers['Upload-Metadata']).toContain(`caption ${btoa('Ashtami')}`)
    const one = '/api/v1/uploads/11111111111111111111111111111111'
    const two = '/api/v1/uploads/22222222222222222222222222222222'
    act(() => FakeXhr.all[0]!.respond(201, '', { Location: one }))
    act(() => FakeXhr.all[1]!.respond(201, '', { Location: two }))
    const patch = (url: string, nth = 0) =>
      vi.waitFor(() => {
        const found = FakeXhr.all.filter((x) => x.method === 'PATCH' && x.url === url)[nth]
        if (!found) throw new Error(`no PATCH ${url} yet`)
        return found
      })
    const sendingOne = await patch(one)
    const bar = screen.getByRole('progressbar', { name: 'Upload progress of one.jpg' })
    act(() => sendingOne.progress(50, 200))
    expect(bar.getAttribute('value')).toBe('25')
    expect(screen.getByText('Uploading: 25%')).toBeTruthy()

    act(() => sendingOne.respond(204, '', { 'Upload-Offset': '200', 'Pujo-Photo-Id': '77' }))
    const sendingTwo = await patch(two)
    act(() => sendingTwo.respond(503, { error: { code: 'unavailable', message: 'storage is resting' } }))
    await screen.findByText('Uploaded.')
    expect(screen.getByRole('status', { name: '' }).textContent).toBe('1 of 2 uploaded, 0 uploading, 1 failed.')
    expect(screen.getByText('storage is resting')).toBeTruthy()
    expect(screen.getByRole('link', { name: 'View' }).getAttribute('href')).toBe('/photos/77')
    // The done file's address is forgotten (once the queue no longer keeps it); the failed one's is kept to resume from.
    const resumes = idbResumeStore()
    const remembered = () =>
      Promise.all([resumes.get(fingerprint(files[0]!, 10, 'Ashtami')), resumes.get(fingerprint(files[1]!, 10, ''))])
    await waitFor(async () => expect(await remembered()).toEqual([null, two]))

    // The retry asks how far the upload got, and goes on from there.
    const before = FakeXhr.all.length
    fireEvent.click(screen.getByRole('button', { name: 'Retry two.jpg' }))
    await requests(before + 1)
    const head = FakeXhr.all[before]!
    expect(`${head.method} ${head.url}`).toBe(`HEAD ${two}`)
    act(() => head.respond(200, '', { 'Upload-Offset': '0', 'Upload-Length': '100' }))
    act(() => void patch(two, 1).then((again) => again.respond(204, '', { 'Upload-Offset': '100', 'Pujo-Photo-Id': '78' })))
    await waitFor(() => expect(screen.getAllByText('Uploaded.')).toHaveLength(2))
    expect(screen.getByRole('link', { name: 'See the album' }).getAttribute('href')).toBe('/albums/10')
    await waitFor(async () => expect(await remembered()).toEqual([null, null]))
  })

  it('pauses the queue while offline and sends it when the network is back', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    stubApi({ 'GET /api/v1/auth/session': () => json({ user: ME }), 'GET /api/v1/users/durga': () => json({ user: ME, albums: [album] }) })
    const onLine = vi.spyOn(window.navigator, 'onLine', 'get').mockReturnValue(false)
    // A browser with Background Sync: the service worker wakes the page when the network is back.
    const sync = { register: vi.fn(() => Promise.resolve()) }
    const worker = Object.assign(new EventTarget(), { getRegistration: () => Promise.resolve({ sync }) })
    Object.defineProperty(window.navigator, 'serviceWorker', { value: worker, configurable: true })
    onTestFinished(() => void delete (window.navigator as unknown as Record<string, unknown>).serviceWorker)
    renderWithProviders(
      <Routes>
        <Route path="/upload" element={<UploadPage />} />
      </Routes>,
      { route: '/upload?album=10' },
    )
    fireEvent.change(await screen.findByLabelText('Choose photos'), {
      target: { files: [new File(['a'], 'one.jpg', { type: 'image/jpeg' })] },
    })
    fireEvent.click(screen.getByRole('button', { name: 'Upload 1 photo' }))
    expect(screen.getByText('Paused at 0%: waiting for the network.')).toBeTruthy()
    expect(screen.getByRole('status', { name: '' }).textContent).toBe('0 of 1 uploaded, 0 uploading, 0 failed. 1 waiting for the network.')
    expect(FakeXhr.all).toHaveLength(0)

    await waitFor(() => expect(sync.register).toHaveBeenCalledWith('pujo-uploads'))

    // The sync comes before the page's own `online` event.
    onLine.mockReturnValue(true)
    act(() => void worker.dispatchEvent(new MessageEvent('message', { data: { type: 'pujo:send-uploads' } })))
    expect(screen.getByText('Uploading: 0%')).toBeTruthy()
    expect(await requests(1)).toEqual(['POST /api/v1/uploads'])
  })

  it('cancels an upload in flight', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    stubApi({ 'GET /api/v1/auth/session': () => json({ user: ME }), 'GET /api/v1/users/durga': () => json({ user: ME, albums: [album] }) })
    renderWithProviders(
      <Routes>
        <Route path="/upload" element={<UploadPage />} />
      </Routes>,
      { route: '/upload?album=10' },
    )
    fireEvent.change(await screen.findByLabelText('Choose photos'), {
      target: { files: [new File(['a'], 'one.jpg', { type: 'image/jpeg' })] },
    })
    fireEvent.click(screen.getByRole('button', { name: 'Upload 1 photo' }))
    await requests(1)
    fireEvent.click(screen.getByRole('button', { name: 'Cancel one.jpg' }))
    expect(FakeXhr.all[0]!.aborted).toBe(true)
    expect(await screen.findByText('Cancelled.')).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Retry one.jpg' })).toBeTruthy()
  })

  it('sends smaller copies with the data saver on, and says how many bytes it kept off the network', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    stubApi({ 'GET /api/v1/auth/session': () => json({ user: ME }), 'GET /api/v1/users/durga': () => json({ user: ME, albums: [album] }) })
    // The browser's decoder and canvas: a 4000 × 3000 photo, encoded again as 20 000 bytes.
    const bitmap = { width: 4000, height: 3000, close: () => {} }
    const decode = vi.fn((_file: Blob, _options?: ImageBitmapOptions) => Promise.resolve(bitmap))
    vi.stubGlobal('createImageBitmap', decode)
    vi.stubGlobal(
      'OffscreenCanvas',
      class {
        getContext() {
          return { drawImage: () => {} }
        }
        convertToBlob() {
          return Promise.resolve(new Blob([new Uint8Array([0xff, 0xd8]), new Uint8Array(19_998)], { type: 'image/jpeg' }))
        }
      },
    )
    renderWithProviders(
      <Routes>
        <Route path="/upload" element={<UploadPage />} />
      </Routes>,
      { route: '/upload?album=10' },
    )
    const saver = await screen.findByRole('checkbox', { name: 'Data saver: send smaller copies' })
    expect((saver as HTMLInputElement).checked).toBe(false)
    fireEvent.click(saver)
    expect(window.localStorage.getItem('pujo.dataSaver')).toBe('on')
    const original = new File([new Uint8Array([0xff, 0xd8]), new Uint8Array(400_000)], 'pandal.jpeg', { type: 'image/jpeg' })
    fireEvent.change(screen.getByLabelText('Choose photos'), { target: { files: [original] } })

    expect(await screen.findByText('20 KB (the original is 391 KB)')).toBeTruthy()
    expect(screen.getByText('The data saver kept 371 KB off the network.')).toBeTruthy()
    expect(decode.mock.calls.at(-1)![1]).toMatchObject({ resizeWidth: 2048, resizeHeight: 1536, imageOrientation: 'from-image' })
    fireEvent.click(screen.getByRole('button', { name: 'Upload 1 photo' }))
    await requests(1)
    const create = FakeXhr.all[0]!
    expect(Number(create.headers['Upload-Length'])).toBeLessThan(21_000)
    expect(create.headers['Upload-Metadata']).toContain(`filename ${btoa('pandal.jpg')}`)
  })

  it('sends people who are not logged in to the login page', async () => {
    stubApi({ 'GET /api/v1/auth/session': () => json({ user: null }) })
    renderWithProviders(
      <Routes>
        <Route path="/upload" element={<UploadPage />} />
        <Route path="/login" element={<LoginPage />} />
      </Routes>,
      { route: '/upload?album=10' },
    )
    expect(await screen.findByRole('heading', { level: 1, name: 'Log in' })).toBeTruthy()
  })
})

describe('PandalsPage', () => {
  it('filters by city and year through the facets, keeping the filter in the address', async () => {
    const calls = stubApi({
      'GET /api/v1/auth/session': () => json({ user: null }),
      'GET /api/v1/pandals/facets': () =>
        json({ cities: [{ city: 'Kolkata', count: 3 }, { city: 'Howrah', count: 1 }], years: [{ year: 2025, count: 4 }] }),
      'GET /api/v1/pandals': (c) =>
        json({
          items: [
            { id: 3, name: c.search.get('city') === 'Howrah' ? 'Salkia Sarbojanin' : 'Bagbazar Sarbojanin', para: '', city: 'Kolkata', year: 2025, lat: null, lon: null, album_count: 2, created_at: '2025-09-01T00:00:00Z' },
          ],
          next_cursor: null,
        }),
    })
    renderWithProviders(
      <Routes>
        <Route path="/pandals" element={<PandalsPage />} />
      </Routes>,
      { route: '/pandals' },
    )
    expect(await screen.findByRole('link', { name: 'Bagbazar Sarbojanin' })).toBeTruthy()
    expect(screen.getByText('Kolkata · 2025 · 2 albums')).toBeTruthy()
    await screen.findByRole('option', { name: 'Howrah (1)' })
    fireEvent.change(screen.getByLabelText('City'), { target: { value: 'Howrah' } })
    expect(await screen.findByRole('link', { name: 'Salkia Sarbojanin' })).toBeTruthy()
    fireEvent.change(screen.getByLabelText('Year'), { target: { value: '2025' } })
    await waitFor(() => expect(calls.at(-1)!.search.get('year')).toBe('2025'))
    expect(calls.at(-1)!.search.get('city')).toBe('Howrah')
    expect(screen.queryByRole('button', { name: 'Add a pandal' })).toBeNull()
  })
})

describe('SearchPage', () => {
  it('searches photos, albums and pandals and says how many it found', async () => {
    const calls = stubApi({
      'GET /api/v1/search': () =>
        json({
          photos: [photo(1)],
          albums: [{ ...album, visibility: 'public' }],
          pandals: [],
        }),
    })
    renderWithProviders(
      <Routes>
        <Route path="/search" element={<SearchPage />} />
      </Routes>,
      { route: '/search' },
    )
    fireEvent.change(screen.getByLabelText('Pandal, city, album or caption'), { target: { value: 'বাগবাজার' } })
    fireEvent.click(screen.getByRole('button', { name: 'Search' }))
    expect(await screen.findByText('2 results')).toBeTruthy()
    expect(calls[0]!.search.get('q')).toBe('বাগবাজার')
    expect(screen.getByRole('heading', { name: 'Albums' })).toBeTruthy()
    expect(screen.getByRole('list', { name: 'Photos' })).toBeTruthy()
    expect(screen.queryByRole('heading', { name: 'Pandals' })).toBeNull()
  })
})

describe('AuditPage', () => {
  it('shows admins the log, newest first, and filters it by action', async () => {
    const event = (id: number, action: string, actor: object) => ({
      id,
      at: '2026-10-13T20:00:00Z',
      actor,
      action,
      object: { kind: 'user', id: '1' },
      client: '203.0.113.0/24',
      request_id: `r${id}`,
    })
    const calls = stubApi({
      'GET /api/v1/auth/session': () => json({ user: { ...ME, role: 'admin' } }),
      'GET /api/v1/admin/audit': (call) =>
        json({
          items:
            call.search.get('action') === 'auth.login_failed'
              ? [event(2, 'auth.login_failed', { kind: 'anonymous', id: null, name: 'durga' })]
              : [
                  event(3, 'role.admin_granted', { kind: 'cli', id: null, name: '' }),
                  event(2, 'auth.login_failed', { kind: 'anonymous', id: null, name: 'durga' }),
                ],
          next_cursor: null,
        }),
    })
    renderWithProviders(<AuditPage />, { route: '/admin/audit' })
    const rows = await screen.findAllByRole('row')
    expect(rows).toHaveLength(3)
    expect(within(rows[1]!).getByText('Made an admin')).toBeTruthy()
    expect(within(rows[1]!).getByText('Command line')).toBeTruthy()
    expect(within(rows[2]!).getByText('Not logged in (durga)')).toBeTruthy()
    expect(within(rows[2]!).getByText('203.0.113.0/24')).toBeTruthy()

    fireEvent.change(screen.getByLabelText('Action'), { target: { value: 'auth.login_failed' } })
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(2))
    expect(calls.some((c) => c.path === '/api/v1/admin/audit' && c.search.get('action') === 'auth.login_failed')).toBe(true)
  })

  it('tells people who are not admins that it is not for them', async () => {
    stubApi({ 'GET /api/v1/auth/session': () => json({ user: ME }) })
    renderWithProviders(<AuditPage />, { route: '/admin/audit' })
    expect(await screen.findByText('Only admins can read the audit log.')).toBeTruthy()
  })
})

describe('SharedPage', () => {
  const TOKEN = 'T'.repeat(43)
  const shared = { album: { ...album, can_edit: false, visibility: 'private' }, allow_download: true, expires_at: null }

  it('asks for the password, says when it is wrong, then shows the album with downloads', async () => {
    let unlocked = false
    const calls = stubApi({
      [`GET /api/v1/shared/${TOKEN}`]: () => (unlocked ? json(shared) : apiError(401, 'password_required')),
      [`POST /api/v1/shared/${TOKEN}/unlock`]: (call) => {
        if ((call.body as { password: string }).password !== 'pecha-2026') return apiError(401, 'unauthorized')
        unlocked = true
        return json(null, 204)
      },
      [`GET /api/v1/shared/${TOKEN}/photos`]: () =>
        json({
          items: [photo(1, { urls: { thumb: '/t', medium: '/m', display: `/media/1/display?share=${TOKEN}`, original: `/media/1/original?share=${TOKEN}` } })],
          next_cursor: null,
        }),
    })
    renderWithProviders(
      <Routes>
        <Route path="/s/:token" element={<SharedPage />} />
      </Routes>,
      { route: `/s/${TOKEN}` },
    )
    expect(await screen.findByRole('heading', { level: 1, name: 'This album needs a password' })).toBeTruthy()
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'wrong-one' } })
    fireEvent.click(screen.getByRole('button', { name: 'Open album' }))
    expect((await screen.findByRole('alert')).textContent).toBe('That password is not right.')
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'pecha-2026' } })
    fireEvent.click(screen.getByRole('button', { name: 'Open album' }))
    expect(await screen.findByRole('heading', { level: 1, name: 'Saptami night' })).toBeTruthy()
    expect(screen.getByText(/Shared by Durga Das/)).toBeTruthy()
    const grid = await screen.findByRole('list', { name: 'Photos in this album' })
    // Photos lead to their image, not to a photo page the link does not open.
    const link = within(grid).getAllByRole('link')[0]!
    expect(link.getAttribute('href')).toBe(`/media/1/display?share=${TOKEN}`)
    fireEvent.click(link)
    const viewer = screen.getByRole('dialog', { name: 'Photo viewer' })
    expect(within(viewer).getByRole('link', { name: 'Download' }).getAttribute('href')).toBe(`/media/1/original?share=${TOKEN}`)
    expect(within(viewer).queryByRole('link', { name: 'Details' })).toBeNull()
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([{ password: 'wrong-one' }, { password: 'pecha-2026' }])
  })

  it('says an expired link has expired, and a revoked one is not found', async () => {
    stubApi({ [`GET /api/v1/shared/${TOKEN}`]: () => apiError(410, 'expired') })
    const { unmount } = renderWithProviders(
      <Routes>
        <Route path="/s/:token" element={<SharedPage />} />
      </Routes>,
      { route: `/s/${TOKEN}` },
    )
    expect(await screen.findByRole('heading', { level: 1, name: 'This link has expired' })).toBeTruthy()
    unmount()
    stubApi({})
    renderWithProviders(
      <Routes>
        <Route path="/s/:token" element={<SharedPage />} />
      </Routes>,
      { route: `/s/${TOKEN}` },
    )
    expect(await screen.findByRole('heading', { level: 1, name: 'Not found' })).toBeTruthy()
  })
})

describe('AlbumPage share links', () => {
  it('makes a link, shows it once, lists it and revokes it', async () => {
    let links: unknown[] = []
    const calls = stubApi({
      'GET /api/v1/albums/10': () => json(album),
      'GET /api/v1/albums/10/photos': () => json({ items: [], next_cursor: null }),
      'GET /api/v1/albums/10/shares': () => json({ items: links }),
      'POST /api/v1/albums/10/shares': () => {
        const made = {
          id: 5,
          album_id: 10,
          label: 'para',
          has_password: true,
          allow_download: false,
          expires_at: '2026-12-13T10:00:00Z',
          expired: false,
          created_at: '2026-12-06T10:00:00Z',
        }
        links = [made]
        return json({ ...made, token: 'abc', url: '/s/abc' }, 201)
      },
      'DELETE /api/v1/albums/10/shares/5': () => {
        links = []
        return json(null, 204)
      },
    })
    renderWithProviders(
      <Routes>
        <Route path="/albums/:id" element={<AlbumPage />} />
      </Routes>,
      { route: '/albums/10' },
    )
    fireEvent.click(await screen.findByRole('button', { name: 'Share by link' }))
    expect(await screen.findByText('No share links yet.')).toBeTruthy()
    fireEvent.change(screen.getByLabelText('Label (only you see it)'), { target: { value: 'para' } })
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'pecha-2026' } })
    fireEvent.click(screen.getByRole('button', { name: 'Make link' }))
    expect(((await screen.findByLabelText('Share link')) as HTMLInputElement).value).toBe(`${window.location.origin}/s/abc`)
    const list = await screen.findByRole('list', { name: 'Share links' })
    expect(within(list).getByText('para')).toBeTruthy()
    const post = calls.find((c) => c.method === 'POST')!.body as Record<string, unknown>
    expect(post.label).toBe('para')
    expect(post.password).toBe('pecha-2026')
    expect(post.allow_download).toBe(false)
    // Seven days by default.
    const days = (Date.parse(post.expires_at as string) - Date.now()) / 86_400_000
    expect(days).toBeGreaterThan(6.9)
    expect(days).toBeLessThan(7.1)
    fireEvent.click(within(list).getByRole('button', { name: 'Revoke' }))
    fireEvent.click(await screen.findByRole('button', { name: 'Yes, revoke' }))
    expect(await screen.findByText('No share links yet.')).toBeTruthy()
    expect(screen.queryByLabelText('Share link')).toBeNull()
  })
})

describe('GuestUploadPage', () => {
  const TOKEN = 'G'.repeat(43)
  const guestLink = { album: { title: 'Ekdalia 2026', owner: 'Barowari' }, label: '', needs_review: true, expires_at: null, per_guest: 2, remaining: null }

  it('sends each photo resumably with the guest’s name, and stops at a full cap', async () => {
    stubApi({
      [`GET /api/v1/guest/${TOKEN}`]: () => json(guestLink),
      'GET /api/v1/proof': () => json({ algorithm: 'SHA-256', salt: '1700000000.00112233445566778899aabbccddeeff', bits: 4 }),
    })
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    renderWithProviders(
      <Routes>
        <Route path="/g/:token" element={<GuestUploadPage />} />
      </Routes>,
      { route: `/g/${TOKEN}` },
    )
    expect(await screen.findByRole('heading', { level: 1, name: 'Ekdalia 2026' })).toBeTruthy()
    expect(screen.getByText(/once the organisers have looked at them/)).toBeTruthy()
    fireEvent.change(screen.getByLabelText('Your name'), { target: { value: 'Rumki' } })
    const files = [1, 2, 3].map((n) => new File([new Uint8Array([0xff, 0xd8, n])], `p${n}.jpg`, { type: 'image/jpeg' }))
    fireEvent.change(screen.getByLabelText('Photos'), { target: { files } })
    fireEvent.click(screen.getByRole('button', { name: 'Send 3 photos' }))
    await waitFor(() => expect(FakeXhr.all).toHaveLength(1))
    const first = FakeXhr.all[0]!
    expect(`${first.method} ${first.url}`).toBe(`POST /api/v1/guest/${TOKEN}/uploads`)
    expect(first.headers['Upload-Length']).toBe('3')
    expect(first.headers['Upload-Metadata']).toBe(`filename ${btoa('p1.jpg')},guest_name ${btoa('Rumki')}`)
    // Not a guest yet: the page proves a little work and begins the upload again.
    act(() => first.respond(428, { error: { code: 'proof_required', message: 'x' } }))
    await waitFor(() => expect(FakeXhr.all).toHaveLength(2))
    const proof = FakeXhr.all[1]!.headers['X-Pujo-Proof']!
    expect(proof.startsWith('1700000000.00112233445566778899aabbccddeeff:')).toBe(true)
    // Each photo: made, then its bytes, which end in a photo waiting for review.
    const sends = async (at: number, upload: string, pending: number) => {
      act(() => FakeXhr.all[at]!.respond(201, '', { Location: `/api/v1/uploads/${upload}`, 'Upload-Offset': '0' }))
      await waitFor(() => expect(FakeXhr.all).toHaveLength(at + 2))
      const chunk = FakeXhr.all[at + 1]!
      expect(`${chunk.method} ${chunk.url}`).toBe(`PATCH /api/v1/uploads/${upload}`)
      expect(chunk.headers['X-Pujo-Proof']).toBeUndefined()
      act(() => chunk.respond(204, '', { 'Upload-Offset': '3', 'Pujo-Pending-Id': String(pending) }))
    }
    await sends(1, 'a'.repeat(32), 7)
    await waitFor(() => expect(FakeXhr.all).toHaveLength(4))
    expect(FakeXhr.all[3]!.headers['X-Pujo-Proof']).toBeUndefined()
    await sends(3, 'b'.repeat(32), 8)
    await waitFor(() => expect(FakeXhr.all).toHaveLength(6))
    act(() => FakeXhr.all[5]!.respond(403, { error: { code: 'forbidden', message: 'this link takes no more photos from you' } }))
    const list = await screen.findByRole('list', { name: 'Your photos' })
    await waitFor(() => expect(within(list).getAllByText('Sent, waiting for review')).toHaveLength(2))
    expect(within(list).getByText('Not sent')).toBeTruthy()
  })

  it('says an expired link has expired', async () => {
    stubApi({ [`GET /api/v1/guest/${TOKEN}`]: () => apiError(410, 'expired') })
    renderWithProviders(
      <Routes>
        <Route path="/g/:token" element={<GuestUploadPage />} />
      </Routes>,
      { route: `/g/${TOKEN}` },
    )
    expect(await screen.findByRole('heading', { level: 1, name: 'This upload link has expired' })).toBeTruthy()
  })
})

describe('ReviewPage', () => {
  const pending = (id: number, name: string, album_id = 10) => ({
    id,
    album_id,
    album_title: album_id === 10 ? 'Navami' : 'Dashami',
    guest_name: name,
    link_label: 'gate poster',
    caption: '',
    width: 800,
    height: 600,
    thumbhash: null,
    created_at: '2026-10-20T18:00:00Z',
    urls: { thumb: `/media/pending/${id}/thumb`, medium: `/media/pending/${id}/medium`, display: `/media/pending/${id}/display` },
  })

  it('approves one, then rejects the ticked ones at once', async () => {
    let queue = [pending(3, 'Rumki'), pending(2, ''), pending(1, 'Tuktuki')]
    const calls = stubApi({
      'GET /api/v1/albums/10': () => json(album),
      'GET /api/v1/albums/10/review': () => json({ items: queue, next_cursor: null }),
      'POST /api/v1/albums/10/review': (call) => {
        const { approve, reject } = call.body as { approve: number[]; reject: number[] }
        queue = queue.filter((p) => !approve.includes(p.id) && !reject.includes(p.id))
        return json({ approved: approve.map((id) => ({ id, photo_id: 100 + id })), rejected: reject, missing: [] })
      },
    })
    renderWithProviders(
      <Routes>
        <Route path="/albums/:id/review" element={<ReviewPage />} />
      </Routes>,
      { route: '/albums/10/review' },
    )
    const list = await screen.findByRole('list', { name: 'Photos waiting for review' })
    expect(within(list).getAllByRole('img')[0]!.getAttribute('src')).toBe('/media/pending/3/medium')
    expect(within(list).getByText(/From a guest/)).toBeTruthy()
    fireEvent.click(within(list).getAllByRole('button', { name: 'Approve' })[0]!)
    await waitFor(() => expect(within(screen.getByRole('list', { name: 'Photos waiting for review' })).getAllByRole('img')).toHaveLength(2))
    for (const box of within(screen.getByRole('list', { name: 'Photos waiting for review' })).getAllByRole('checkbox')) fireEvent.click(box)
    fireEvent.click(screen.getByRole('button', { name: 'Reject 2' }))
    expect(await screen.findByText('Nothing waits for review.')).toBeTruthy()
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([
      { approve: [3], reject: [] },
      { approve: [], reject: [2, 1] },
    ])
  })

  it('gathers a pandal’s albums, and decides each photo in its own album', async () => {
    let queue = [pending(5, 'Rumki', 11), pending(4, 'Tuktuki', 10)]
    const calls = stubApi({
      'GET /api/v1/pandals/7': () => json({ pandal: { id: 7, name: 'Bagbazar Sarbojanin' }, albums: [], photos: [] }),
      'GET /api/v1/pandals/7/review': () => json({ items: queue, next_cursor: null }),
      'POST /api/v1/albums/10/review': (call) => {
        const { approve } = call.body as { approve: number[] }
        queue = queue.filter((p) => !approve.includes(p.id))
        return json({ approved: approve.map((id) => ({ id, photo_id: 100 + id })), rejected: [], missing: [] })
      },
      'POST /api/v1/albums/11/review': (call) => {
        const { approve } = call.body as { approve: number[] }
        queue = queue.filter((p) => !approve.includes(p.id))
        return json({ approved: approve.map((id) => ({ id, photo_id: 100 + id })), rejected: [], missing: [] })
      },
    })
    renderWithProviders(
      <Routes>
        <Route path="/pandals/:id/review" element={<ReviewPage of="pandal" />} />
      </Routes>,
      { route: '/pandals/7/review' },
    )
    expect(await screen.findByRole('heading', { level: 1, name: 'Review: Bagbazar Sarbojanin' })).toBeTruthy()
    const list = await screen.findByRole('list', { name: 'Photos waiting for review' })
    expect(within(list).getByRole('link', { name: 'In “Dashami”' }).getAttribute('href')).toBe('/albums/11')
    for (const box of within(list).getAllByRole('checkbox')) fireEvent.click(box)
    fireEvent.click(screen.getByRole('button', { name: 'Approve 2' }))
    expect(await screen.findByText('Nothing waits for review.')).toBeTruthy()
    const posts = calls.filter((c) => c.method === 'POST').map((c) => [c.path, c.body])
    expect(posts).toEqual([
      ['/api/v1/albums/11/review', { approve: [5], reject: [] }],
      ['/api/v1/albums/10/review', { approve: [4], reject: [] }],
    ])
  })
})

describe('WallPage', () => {
  class FakeEventSource {
    static last: FakeEventSource | null = null
    url: string
    onopen: (() => void) | null = null
    onerror: (() => void) | null = null
    listeners: Record<string, ((e: { data: string }) => void)[]> = {}
    closed = false
    constructor(url: string) {
      this.url = url
      FakeEventSource.last = this
    }
    addEventListener(type: string, fn: (e: { data: string }) => void) {
      ;(this.listeners[type] ??= []).push(fn)
    }
    close() {
      this.closed = true
    }
    emit(type: string, data: unknown) {
      for (const fn of this.listeners[type] ?? []) fn({ data: JSON.stringify(data) })
    }
  }

  it('listens to the album’s wall and shows each new photo at once, in both languages', async () => {
    vi.stubGlobal('EventSource', FakeEventSource)
    const { unmount } = renderWithProviders(
      <Routes>
        <Route path="/wall/:kind/:id" element={<WallPage />} />
      </Routes>,
      { route: '/wall/album/10?key=abc' },
    )
    expect(await screen.findByText('Waiting for photos…')).toBeTruthy()
    const source = FakeEventSource.last!
    expect(source.url).toBe('/api/v1/albums/10/wall?key=abc')
    act(() => source.onopen?.())
    expect(screen.getByLabelText('Live')).toBeTruthy()
    act(() => source.emit('photo', photo(5, { caption: 'Sandhi puja', guest_name: 'Rumki' })))
    expect(screen.getByText('Sandhi puja')).toBeTruthy()
    expect(screen.getByText('Rumki')).toBeTruthy()
    expect(screen.getByText('New photo')).toBeTruthy()
    expect(screen.getByText('নতুন ছবি')).toBeTruthy()
    act(() => source.emit('photo', photo(6, { caption: 'Dhunuchi' })))
    expect(screen.getByText('Dhunuchi')).toBeTruthy()
    // Removed by a moderator: off the screen at once.
    act(() => source.emit('remove', { id: 6 }))
    expect(screen.queryByText('Dhunuchi')).toBeNull()
    expect(screen.getByText('Sandhi puja')).toBeTruthy()
    act(() => source.onerror?.())
    expect(screen.getByLabelText('Reconnecting')).toBeTruthy()
    unmount()
    expect(source.closed).toBe(true)
  })
})

describe('ReportsPage', () => {
  it('shows what was reported and why, and bans a guest’s upload link', async () => {
    let open = [
      {
        id: 4,
        target: { kind: 'photo', id: 9, thumb: '/media/9/thumb', photo_id: 9, from_guest_link: true },
        album_id: 10,
        reason: 'private',
        note: 'my face',
        by_member: false,
        created_at: '2026-10-21T10:00:00Z',
      },
    ]
    const calls = stubApi({
      'GET /api/v1/auth/session': () => json({ user: ME }),
      'GET /api/v1/reports': () => json({ items: open, next_cursor: null }),
      'POST /api/v1/reports/4': () => {
        open = []
        return json({ closed: 1 })
      },
    })
    renderWithProviders(<ReportsPage />, { route: '/reports' })
    const list = await screen.findByRole('list', { name: 'Open reports' })
    expect(within(list).getByText('my face')).toBeTruthy()
    expect(within(list).getByText('Shows me or my family without consent')).toBeTruthy()
    expect(within(list).getByRole('img').getAttribute('src')).toBe('/media/9/thumb')
    fireEvent.click(within(list).getByRole('button', { name: 'Ban the upload link' }))
    expect(await screen.findByText('No open reports.')).toBeTruthy()
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([{ action: 'ban_link' }])
  })
})
