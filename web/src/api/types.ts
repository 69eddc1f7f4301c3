/**
 * The JSON shapes of the Pujo API (`/api/v1`), as the server sends them.
 * Timestamps are RFC 3339 strings; ids are numbers.
 */

export type Role = 'user' | 'admin'
export type GpsPrivacy = 'hidden' | 'coarse' | 'exact'
export type Visibility = 'public' | 'unlisted' | 'private'

export interface UserRef {
  id: number
  username: string
  display_name: string
}

export interface Me {
  id: number
  username: string
  display_name: string
  bio: string
  role: Role
  created_at: string
  email: string
  gps_privacy: GpsPrivacy
}

export interface PublicUser {
  id: number
  username: string
  display_name: string
  bio: string
  role: Role
  created_at: string
}

export interface PandalRef {
  id: number
  name: string
  para: string
  city: string
  year: number
}

export interface Pandal extends PandalRef {
  lat: number | null
  lon: number | null
  album_count: number
  created_at: string
}

/** Derivative URLs: thumb is 400 px on the long edge, medium 800 px, display 1600 px. */
export interface PhotoUrls {
  thumb: string
  /** 800 px long edge: phone-sized cells and the photo page on phones. */
  medium: string
  display: string
  /** Null unless the viewer may download the original. */
  original: string | null
}

export interface Exif {
  camera?: string
  lens?: string
  exposure?: string | number
  aperture?: string | number
  iso?: string | number
  focal_length?: string | number
}

export interface PhotoLocation {
  lat: number
  lon: number
  precision: 'coarse' | 'exact'
}

export interface Photo {
  id: number
  album_id: number
  owner: UserRef
  caption: string
  width: number
  height: number
  taken_at: string | null
  created_at: string
  updated_at: string
  /** Base64 ThumbHash, decoded in the browser into a blurred placeholder. */
  thumbhash: string | null
  exif: Exif
  location: PhotoLocation | null
  like_count: number
  comment_count: number
  liked_by_me: boolean
  urls: PhotoUrls
  visibility: Visibility
  /** An unlisted photo's album link key (whoever sees the photo holds it already). */
  link_key?: string
  can_edit: boolean
  /** Only sent to the owner. */
  gps_privacy?: GpsPrivacy
  /** Only sent to the owner. */
  allow_original?: boolean
  /** Who sent it through an upload link (absent for the owner's own). */
  guest_name?: string
}

export interface AlbumCover {
  id: number
  width: number
  height: number
  thumbhash: string | null
  urls: PhotoUrls
}

export interface Album {
  id: number
  owner: UserRef
  title: string
  description: string
  visibility: Visibility
  pandal: PandalRef | null
  cover: AlbumCover | null
  photo_count: number
  created_at: string
  updated_at: string
  can_edit: boolean
  /** Only sent to the owner: the key of the album's link (`/albums/{id}?key=`). */
  link_key?: string
}

export interface Comment {
  id: number
  photo_id: number
  author: UserRef
  body: string
  created_at: string
  can_delete: boolean
}

/** A share link as its album's owner sees it; `token` and `url` only when just made. */
export interface ShareLink {
  id: number
  album_id: number
  label: string
  has_password: boolean
  allow_download: boolean
  expires_at: string | null
  expired: boolean
  created_at: string
  token?: string
  url?: string
}

/** A guest upload link as its album's owner sees it. */
export interface UploadLink {
  id: number
  album_id: number
  token: string
  /** The site's guest page (`/g/{token}`). */
  url: string
  /** Where its QR code is drawn (SVG). */
  qr: string
  label: string
  needs_review: boolean
  per_guest: number | null
  total: number | null
  taken: number
  expires_at: string | null
  expired: boolean
  created_at: string
  /** Whether guests' photos keep where they were taken. */
  keep_location: boolean
}

/** What a guest sees of an upload link (`GET /api/v1/guest/{token}`). */
export interface GuestLink {
  album: { title: string; owner: string }
  label: string
  needs_review: boolean
  /** Whether the album keeps where guests' photos were taken: the page says so. */
  keep_location: boolean
  expires_at: string | null
  per_guest: number | null
  remaining: number | null
}

/** What became of one photo a guest sent. */
export interface GuestUploaded {
  id: number
  status: 'pending' | 'approved'
}

/** A guest's photo waiting for review. */
export interface PendingPhoto {
  id: number
  album_id: number
  guest_name: string
  link_label: string | null
  caption: string
  width: number
  height: number
  thumbhash: string | null
  created_at: string
  /** The album it waits in (a pandal's queue gathers many). */
  album_title: string
  urls: { thumb: string; medium: string; display: string }
}

/** What `POST /api/v1/albums/{id}/review` did. */
export interface Reviewed {
  approved: { id: number; photo_id: number }[]
  rejected: number[]
  missing: number[]
}

/** An open report, for those who may act on it (`GET /api/v1/reports`). */
export interface Report {
  id: number
  target: {
    kind: 'photo' | 'comment'
    id: number
    /** A photo's thumbnail. */
    thumb?: string
    /** A comment's text. */
    text?: string
    photo_id: number | null
    from_guest_link: boolean
  }
  album_id: number
  reason: 'spam' | 'abuse' | 'private' | 'copyright' | 'other'
  note: string
  by_member: boolean
  created_at: string
}

/** What a share link opens (`GET /api/v1/shared/{token}`). */
export interface Shared {
  album: Album
  allow_download: boolean
  expires_at: string | null
}

/** One page of a keyset-paged list, newest first. */
/** One event of the audit log (`GET /api/v1/admin/audit`, admins only). */
export interface AuditEvent {
  id: number
  at: string
  actor: { kind: 'user' | 'anonymous' | 'cli'; id: number | null; name: string }
  action: string
  object: { kind: string; id: string }
  /** The client's network: its /24 (IPv4) or /48 (IPv6). */
  client: string
  request_id: string
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

export interface LikeState {
  like_count: number
  liked_by_me: boolean
}

export interface Facets {
  cities: { city: string; count: number }[]
  years: { year: number; count: number }[]
}

export interface PandalDetail {
  pandal: Pandal
  albums: Album[]
  photos: Photo[]
}

export interface Profile {
  user: PublicUser
  albums: Album[]
}

export interface SearchResults {
  photos: Photo[]
  albums: Album[]
  pandals: Pandal[]
}

/** Anything the justified grid and the lightbox can show. */
export type ImageLike = Pick<Photo, 'id' | 'width' | 'height' | 'thumbhash' | 'urls'>
