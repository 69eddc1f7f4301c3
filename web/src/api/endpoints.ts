/**
 * One typed function per API endpoint. Pages call these (through TanStack
 * Query); nothing else in the site writes an API path.
 */
import { API, apiFetch, apiSend, query } from './client'
import type {
  Album,
  AuditEvent,
  Comment,
  Facets,
  GpsPrivacy,
  LikeState,
  Me,
  Page,
  Pandal,
  PandalDetail,
  Photo,
  Profile,
  SearchResults,
  GuestLink,
  PendingPhoto,
  Report,
  Reviewed,
  Shared,
  ShareLink,
  UploadLink,
  UserRef,
  Visibility,
} from './types'

export interface PageParams {
  cursor?: string | null
  limit?: number
}

// Accounts

export interface RegisterInput {
  username: string
  email: string
  password: string
  display_name?: string
}

/** Makes an account; `proof` is the proof of work it needs (`getProofChallenge('register')`). */
export const register = (input: RegisterInput, proof: string) =>
  apiSend<Me>('POST', `${API}/auth/register`, input, { headers: { 'X-Pujo-Proof': proof } })
export const login = (login: string, password: string) => apiSend<Me>('POST', `${API}/auth/login`, { login, password })
export const logout = () => apiSend<void>('POST', `${API}/auth/logout`)

/**
 * The signed-in person, or null when nobody is. Asked of `/auth/session`, which
 * answers 200 either way: being anonymous is a normal state, not an error in the
 * console on every first visit.
 */
export async function getMe(signal?: AbortSignal): Promise<Me | null> {
  const body = await apiFetch<{ user: Me | null }>(`${API}/auth/session`, { signal })
  return body.user ?? null
}

export interface MeUpdate {
  display_name?: string
  bio?: string
  gps_privacy?: GpsPrivacy
}

export const updateMe = (patch: MeUpdate) => apiSend<Me>('PATCH', `${API}/me`, patch)
export const changePassword = (current_password: string, new_password: string) =>
  apiSend<void>('PUT', `${API}/me/password`, { current_password, new_password })
export const deleteMe = (password: string) => apiSend<void>('DELETE', `${API}/me`, { password })

export const getProfile = (username: string, signal?: AbortSignal) =>
  apiFetch<Profile>(`${API}/users/${encodeURIComponent(username)}`, { signal })

// Photos

export const listPhotos = (p: PageParams & { pandal?: number }, signal?: AbortSignal) =>
  apiFetch<Page<Photo>>(`${API}/photos${query({ limit: p.limit, cursor: p.cursor, pandal: p.pandal })}`, { signal })
/**
 * `key` is an unlisted album's link key: the only thing that opens it (and its photos,
 * comments and likes) to someone who does not own it.
 */
export const getPhoto = (id: number, signal?: AbortSignal, key?: string | null) =>
  apiFetch<Photo>(`${API}/photos/${id}${query({ key })}`, { signal })

export interface PhotoUpdate {
  caption?: string
  gps_privacy?: GpsPrivacy
  allow_original?: boolean
  album_id?: number
}

export const updatePhoto = (id: number, patch: PhotoUpdate) => apiSend<Photo>('PATCH', `${API}/photos/${id}`, patch)
export const deletePhoto = (id: number) => apiSend<void>('DELETE', `${API}/photos/${id}`)

export const setLiked = (id: number, liked: boolean, key?: string | null) =>
  apiSend<LikeState>(liked ? 'PUT' : 'DELETE', `${API}/photos/${id}/like${query({ key })}`)

// Comments

export const listComments = (photoId: number, p: PageParams, signal?: AbortSignal, key?: string | null) =>
  apiFetch<Page<Comment>>(`${API}/photos/${photoId}/comments${query({ limit: p.limit, cursor: p.cursor, key })}`, {
    signal,
  })
export const createComment = (photoId: number, body: string, key?: string | null) =>
  apiSend<Comment>('POST', `${API}/photos/${photoId}/comments${query({ key })}`, { body })
export const deleteComment = (id: number, key?: string | null) =>
  apiSend<void>('DELETE', `${API}/comments/${id}${query({ key })}`)

// Albums

export const listAlbums = (p: PageParams & { owner?: string; pandal?: number }, signal?: AbortSignal) =>
  apiFetch<Page<Album>>(
    `${API}/albums${query({ owner: p.owner, pandal: p.pandal, limit: p.limit, cursor: p.cursor })}`,
    { signal },
  )
export const getAlbum = (id: number, signal?: AbortSignal, key?: string | null) =>
  apiFetch<Album>(`${API}/albums/${id}${query({ key })}`, { signal })
export const listAlbumPhotos = (id: number, p: PageParams, signal?: AbortSignal, key?: string | null) =>
  apiFetch<Page<Photo>>(`${API}/albums/${id}/photos${query({ limit: p.limit, cursor: p.cursor, key })}`, { signal })
/** A new link key for the album: the old link opens it no more. */
export const rotateAlbumLink = (id: number) => apiSend<Album>('POST', `${API}/albums/${id}/link`, {})

export interface AlbumInput {
  title: string
  description?: string
  visibility?: Visibility
  pandal_id?: number | null
}

export const createAlbum = (input: AlbumInput) => apiSend<Album>('POST', `${API}/albums`, input)
export const updateAlbum = (id: number, patch: Partial<AlbumInput> & { cover_photo_id?: number }) =>
  apiSend<Album>('PATCH', `${API}/albums/${id}`, patch)
export const deleteAlbum = (id: number) => apiSend<void>('DELETE', `${API}/albums/${id}`)

// Pandals

export const listPandals = (p: PageParams & { city?: string; year?: number }, signal?: AbortSignal) =>
  apiFetch<Page<Pandal>>(
    `${API}/pandals${query({ city: p.city, year: p.year, limit: p.limit, cursor: p.cursor })}`,
    { signal },
  )
export const getPandalFacets = (signal?: AbortSignal) => apiFetch<Facets>(`${API}/pandals/facets`, { signal })
export const getPandal = (id: number, signal?: AbortSignal) => apiFetch<PandalDetail>(`${API}/pandals/${id}`, { signal })

export interface PandalInput {
  name: string
  para?: string
  city: string
  year: number
  lat?: number | null
  lon?: number | null
}

export const createPandal = (input: PandalInput) => apiSend<Pandal>('POST', `${API}/pandals`, input)
export const updatePandal = (id: number, patch: Partial<PandalInput>) =>
  apiSend<Pandal>('PATCH', `${API}/pandals/${id}`, patch)

// Search

export const search = (q: string, limit: number, signal?: AbortSignal) =>
  apiFetch<SearchResults>(`${API}/search${query({ q, limit })}`, { signal })

/** Where a photo is uploaded to (multipart, one file per request: see upload.ts). */
export const albumPhotosUrl = (albumId: number) => `${API}/albums/${albumId}/photos`

/** Where resumable uploads are created (tus 1.0: see tus.ts); each answers with its own address. */
export const uploadsUrl = `${API}/uploads`

export const listAudit = (p: PageParams & { action?: string }, signal?: AbortSignal) =>
  apiFetch<Page<AuditEvent>>(`${API}/admin/audit${query({ action: p.action, limit: p.limit, cursor: p.cursor })}`, {
    signal,
  })

// Share links

export interface ShareLinkInput {
  label?: string
  password?: string | null
  allow_download?: boolean
  /** RFC 3339; none for a link that lasts until it is revoked. */
  expires_at?: string | null
}

export const listShareLinks = (albumId: number, signal?: AbortSignal) =>
  apiFetch<{ items: ShareLink[] }>(`${API}/albums/${albumId}/shares`, { signal })
export const createShareLink = (albumId: number, input: ShareLinkInput) =>
  apiSend<ShareLink>('POST', `${API}/albums/${albumId}/shares`, input)
export const revokeShareLink = (albumId: number, id: number) =>
  apiSend<void>('DELETE', `${API}/albums/${albumId}/shares/${id}`)
export const getShared = (token: string, signal?: AbortSignal) =>
  apiFetch<Shared>(`${API}/shared/${encodeURIComponent(token)}`, { signal })
export const listSharedPhotos = (token: string, p: PageParams, signal?: AbortSignal) =>
  apiFetch<Page<Photo>>(`${API}/shared/${encodeURIComponent(token)}/photos${query({ limit: p.limit, cursor: p.cursor })}`, {
    signal,
  })
/** Gives a share link's password; the answer's cookie opens the link in this browser. */
export const unlockShared = (token: string, password: string) =>
  apiSend<void>('POST', `${API}/shared/${encodeURIComponent(token)}/unlock`, { password })

// Guest uploads and their review

export interface UploadLinkInput {
  label?: string
  needs_review?: boolean
  per_guest?: number | null
  total?: number | null
  expires_at?: string | null
  /** Keep where guests' photos were taken (the album's owner alone may). */
  keep_location?: boolean
}

export const listUploadLinks = (albumId: number, signal?: AbortSignal) =>
  apiFetch<{ items: UploadLink[] }>(`${API}/albums/${albumId}/upload-links`, { signal })
export const createUploadLink = (albumId: number, input: UploadLinkInput) =>
  apiSend<UploadLink>('POST', `${API}/albums/${albumId}/upload-links`, input)
export const revokeUploadLink = (albumId: number, id: number) =>
  apiSend<void>('DELETE', `${API}/albums/${albumId}/upload-links/${id}`)
export const getGuestLink = (token: string, signal?: AbortSignal) =>
  apiFetch<GuestLink>(`${API}/guest/${encodeURIComponent(token)}`, { signal })
/** A proof-of-work challenge for a browser that is not a guest yet (see lib/proof.ts). */
/** A proof-of-work challenge: for a new guest's first upload, or for making an account. */
export const getProofChallenge = (purpose: 'guest' | 'register' = 'guest', signal?: AbortSignal) =>
  apiFetch<{ algorithm: string; salt: string; bits: number }>(`${API}/proof?for=${purpose}`, { signal })
/** Where a guest's photos go (multipart, one file per request: see upload.ts). */
export const guestUploadsUrl = (token: string) => `${API}/guest/${encodeURIComponent(token)}/uploads`
export const listReview = (albumId: number, p: PageParams, signal?: AbortSignal) =>
  apiFetch<Page<PendingPhoto>>(`${API}/albums/${albumId}/review${query({ limit: p.limit, cursor: p.cursor })}`, { signal })
/** The pandals the logged-in person moderates. */
export const getModerates = (signal?: AbortSignal) => apiFetch<{ pandals: number[] }>(`${API}/me/moderates`, { signal })
/** A pandal's review queue: its albums that are not private, for its moderators and admins. */
export const listPandalReview = (pandalId: number, p: PageParams, signal?: AbortSignal) =>
  apiFetch<Page<PendingPhoto>>(`${API}/pandals/${pandalId}/review${query({ limit: p.limit, cursor: p.cursor })}`, { signal })
export const review = (albumId: number, approve: number[], reject: number[]) =>
  apiSend<Reviewed>('POST', `${API}/albums/${albumId}/review`, { approve, reject })

// Reports and moderators

export type ReportReason = Report['reason']
export type ReportAction = 'remove' | 'dismiss' | 'ban_link'

/** Reports a photo or a comment (an unlisted one with its album's key). */
export const report = (kind: 'photo' | 'comment', id: number, reason: ReportReason, note: string, key?: string | null) =>
  apiSend<{ status: string }>('POST', `${API}/${kind === 'photo' ? 'photos' : 'comments'}/${id}/report${query({ key })}`, { reason, note })
export const listReports = (p: PageParams, signal?: AbortSignal) =>
  apiFetch<Page<Report>>(`${API}/reports${query({ limit: p.limit, cursor: p.cursor })}`, { signal })
export const actOnReport = (id: number, action: ReportAction) => apiSend<{ closed: number }>('POST', `${API}/reports/${id}`, { action })
export const listModerators = (pandalId: number, signal?: AbortSignal) =>
  apiFetch<{ items: UserRef[] }>(`${API}/pandals/${pandalId}/moderators`, { signal })
export const setModerator = (pandalId: number, username: string, moderator: boolean) =>
  apiSend<void>(moderator ? 'PUT' : 'DELETE', `${API}/pandals/${pandalId}/moderators/${encodeURIComponent(username)}`)
