import { useEffect, useRef, type ReactNode } from 'react'
import { useLocation } from 'react-router'

/** The location key whose heading last took focus ("default" is the first page load). */
let focusedFor = 'default'

/**
 * The page's <h1>. It names the document, and after an in-site navigation
 * it takes focus so keyboard and screen-reader users land on the new page
 * (not on the first load, where focus belongs to the browser).
 */
export function PageTitle({ title, children }: { title: string; children?: ReactNode }) {
  const { key } = useLocation()
  const ref = useRef<HTMLHeadingElement>(null)

  useEffect(() => {
    document.title = title === 'Pujo' ? 'Pujo' : `${title} · Pujo`
  }, [title])

  useEffect(() => {
    if (key === 'default' || key === focusedFor) return
    focusedFor = key
    // A lightbox walking through photos changes the page beneath it: leave focus in the lightbox.
    if (document.body.classList.contains('has-modal')) return
    ref.current?.focus()
  }, [key])

  return (
    <h1 id="page-title" tabIndex={-1} ref={ref}>
      {children ?? title}
    </h1>
  )
}
