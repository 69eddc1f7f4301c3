import { QueryClient } from '@tanstack/react-query'
import { ApiError } from './api/client'

/** Only failures that may pass are retried: network trouble and 5xx, twice. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (failureCount >= 2) return false
  if (!(error instanceof ApiError)) return false
  return error.status === 0 || error.status >= 500
}

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 30_000, retry: shouldRetry, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  })
}

/** Photos per page of the home page's feed. */
export const FEED_PAGE = 30

/** Query keys in one place, so invalidation matches what was cached. */
export const keys = {
  me: ['me'] as const,
  feed: ['photos', 'feed'] as const,
  photo: (id: number) => ['photos', id] as const,
  pandalPhotos: (id: number) => ['photos', 'pandal', id] as const,
  comments: (photoId: number) => ['comments', photoId] as const,
  album: (id: number) => ['albums', id] as const,
  albumPhotos: (id: number) => ['albums', id, 'photos'] as const,
  profile: (username: string) => ['users', username] as const,
  pandals: (city: string, year: number | undefined) => ['pandals', 'list', city, year ?? null] as const,
  facets: ['pandals', 'facets'] as const,
  audit: (action: string) => ['audit', action] as const,
  shareLinks: (albumId: number) => ['albums', albumId, 'shares'] as const,
  shared: (token: string) => ['shared', token] as const,
  sharedPhotos: (token: string) => ['shared', token, 'photos'] as const,
  uploadLinks: (albumId: number) => ['albums', albumId, 'upload-links'] as const,
  review: (albumId: number) => ['albums', albumId, 'review'] as const,
  pandalReview: (pandalId: number) => ['pandals', pandalId, 'review'] as const,
  /** Not under `me`: dropped with everything else when the session changes. */
  moderates: ['moderation', 'mine'] as const,
  guestLink: (token: string) => ['guest', token] as const,
  reports: ['reports'] as const,
  moderators: (pandalId: number) => ['pandals', pandalId, 'moderators'] as const,
  pandal: (id: number) => ['pandals', id] as const,
  search: (q: string) => ['search', q] as const,
}
