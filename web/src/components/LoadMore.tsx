import { useEffect, useRef } from 'react'
import { useI18n } from '../i18n'
import type { CursorList } from '../hooks/useCursorList'
import { ErrorNotice } from './Status'

/**
 * The end of a paged list: loads the next page when it scrolls into view
 * (infinite scroll) and is also a real button, for keyboards and for
 * browsers without IntersectionObserver.
 */
export function LoadMore({ list }: { list: Pick<CursorList<unknown>, 'hasMore' | 'isLoadingMore' | 'loadMore' | 'error' | 'isPending'> }) {
  const { t } = useI18n()
  const sentinel = useRef<HTMLDivElement>(null)
  const { hasMore, isLoadingMore, loadMore, error, isPending } = list

  useEffect(() => {
    const el = sentinel.current
    if (!el || !hasMore || error || typeof IntersectionObserver === 'undefined') return
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) loadMore()
      },
      { rootMargin: '800px 0px' },
    )
    observer.observe(el)
    return () => observer.disconnect()
  }, [hasMore, loadMore, error])

  if (isPending) return null
  if (error && !isLoadingMore) return <ErrorNotice error={error} onRetry={loadMore} />
  if (!hasMore) return null
  return (
    <div className="load-more" ref={sentinel}>
      <button type="button" className="button button--quiet" onClick={loadMore} disabled={isLoadingMore}>
        {isLoadingMore ? t('common.loading') : t('common.load_more')}
      </button>
    </div>
  )
}
