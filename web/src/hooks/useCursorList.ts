import { useInfiniteQuery, type QueryKey } from '@tanstack/react-query'
import { useCallback, useMemo } from 'react'
import type { Page } from '../api/types'

export interface CursorList<T> {
  items: T[]
  isPending: boolean
  error: unknown
  hasMore: boolean
  isLoadingMore: boolean
  loadMore: () => void
  refetch: () => void
}

/**
 * A keyset-paged list (`{items, next_cursor}`) as one growing array. The
 * next page is asked for with the last page's cursor; `null` ends the list.
 * An item seen on an earlier page is not repeated.
 */
export function useCursorList<T extends { id: number }>(
  queryKey: QueryKey,
  fetchPage: (cursor: string | null, signal: AbortSignal) => Promise<Page<T>>,
  options: { enabled?: boolean } = {},
): CursorList<T> {
  const query = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam, signal }) => fetchPage(pageParam, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last: Page<T>) => last.next_cursor ?? undefined,
    enabled: options.enabled ?? true,
  })
  const { data, hasNextPage, isFetchingNextPage, fetchNextPage, refetch } = query

  const items = useMemo(() => {
    const seen = new Set<number>()
    const out: T[] = []
    for (const page of data?.pages ?? []) {
      for (const item of page.items) {
        if (seen.has(item.id)) continue
        seen.add(item.id)
        out.push(item)
      }
    }
    return out
  }, [data])

  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage()
  }, [hasNextPage, isFetchingNextPage, fetchNextPage])

  return {
    items,
    isPending: query.isPending,
    error: query.error,
    hasMore: hasNextPage,
    isLoadingMore: isFetchingNextPage,
    loadMore,
    refetch: () => void refetch(),
  }
}
