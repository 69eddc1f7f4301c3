/**
 * The first page's code and data, asked for as soon as the shell runs. Left
 * to React, the page's chunk is fetched when the route first renders and its
 * data only once that chunk has run, so the largest image (the home grid, a
 * photo) waited for two round trips in a row; here both start at once, and
 * the page finds its answers in the query cache.
 */
import type { QueryClient } from '@tanstack/react-query'
import { getAlbum, getMe, getPhoto, listAlbumPhotos, listPhotos } from './api/endpoints'
import type { Photo } from './api/types'
import { linkKeyOf } from './hooks/useLinkKey'
import { srcSet } from './lib/photo'
import { FEED_PAGE, keys } from './queryClient'

const firstPage = { initialPageParam: null as string | null, getNextPageParam: () => undefined }

/** `search` is the address's query: an unlisted album's link carries its key there. */
export function prefetchFirstPage(client: QueryClient, pathname: string, search = ''): void {
  const key = linkKeyOf(new URLSearchParams(search))
  void client.prefetchQuery({ queryKey: keys.me, queryFn: ({ signal }) => getMe(signal), staleTime: 5 * 60_000 })
  if (pathname === '/') {
    void import('./pages/HomePage')
    void client.prefetchInfiniteQuery({
      queryKey: keys.feed,
      queryFn: ({ pageParam, signal }) => listPhotos({ cursor: pageParam, limit: FEED_PAGE }, signal),
      ...firstPage,
    })
    return
  }
  const photo = /^\/photos\/(\d{1,15})$/.exec(pathname)
  if (photo && Number(photo[1]) > 0) {
    void import('./pages/PhotoPage')
    const id = Number(photo[1])
    void client
      .prefetchQuery({ queryKey: keys.photo(id), queryFn: ({ signal }) => getPhoto(id, signal, key) })
      .then(() => {
        const data = client.getQueryData<Photo>(keys.photo(id))
        if (data?.urls) preloadImage(data, PHOTO_PAGE_SIZES)
      })
    return
  }
  const album = /^\/albums\/(\d{1,15})$/.exec(pathname)
  if (album && Number(album[1]) > 0) {
    void import('./pages/AlbumPage')
    const id = Number(album[1])
    void client.prefetchQuery({ queryKey: keys.album(id), queryFn: ({ signal }) => getAlbum(id, signal, key) })
    void client.prefetchInfiniteQuery({
      queryKey: keys.albumPhotos(id),
      queryFn: ({ pageParam, signal }) => listAlbumPhotos(id, { cursor: pageParam }, signal, key),
      ...firstPage,
    })
  }
}

/** How wide the photo page draws its photo; the preload makes the same choice. */
export const PHOTO_PAGE_SIZES = '(min-width: 72rem) 72rem, 100vw'

/**
 * Starts the photo's image as soon as its JSON is in, at high priority, with the
 * same `srcset` and `sizes` the page will draw it with, so the browser picks the
 * same file and the page's `<img>` finds it loading already (the page's largest
 * paint no longer waits for the page's code to arrive and render first).
 */
function preloadImage(photo: Photo, sizes: string): void {
  const link = document.createElement('link')
  link.setAttribute('rel', 'preload')
  link.setAttribute('as', 'image')
  link.setAttribute('imagesrcset', srcSet(photo))
  link.setAttribute('imagesizes', sizes)
  link.setAttribute('fetchpriority', 'high')
  document.head.appendChild(link)
}
