import { useState } from 'react'
import type { Photo } from '../api/types'
import type { CursorList } from '../hooks/useCursorList'
import { JustifiedGrid } from './JustifiedGrid'
import { Lightbox } from './Lightbox'
import { LoadMore } from './LoadMore'
import { ErrorNotice, Loading } from './Status'

/** A paged list of photos as a justified grid with infinite scroll and a lightbox. */
export function PhotoBrowser({
  list,
  label,
  empty,
  shared = false,
}: {
  list: CursorList<Photo>
  label: string
  empty: string
  /** Seen through a share link: photos link to their display image, not their page. */
  shared?: boolean
}) {
  const [open, setOpen] = useState<number | null>(null)
  if (list.isPending) return <Loading />
  if (list.error && list.items.length === 0) return <ErrorNotice error={list.error} onRetry={list.refetch} />
  if (list.items.length === 0) return <p className="empty">{empty}</p>
  return (
    <>
      <JustifiedGrid photos={list.items} label={label} onOpen={setOpen} linkTo={shared ? (p) => p.urls.display : undefined} />
      <LoadMore list={list} />
      {open !== null && (
        <Lightbox
          photos={list.items}
          index={open}
          onIndexChange={setOpen}
          onClose={() => setOpen(null)}
          hasMore={list.hasMore}
          onNeedMore={list.loadMore}
          shared={shared}
        />
      )}
    </>
  )
}
