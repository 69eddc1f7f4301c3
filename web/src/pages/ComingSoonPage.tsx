import type { Section } from '../routes'
import { Link } from '../router'

export function ComingSoonPage({ section }: { section: Section }) {
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>{section.label}</h1>
      <p className="lede">{section.summary}</p>
      <p className="coming-soon">
        <strong>Coming soon.</strong> This part of Pujo is not built yet, so there is nothing here to use today.
      </p>
      <p><Link to="/">Back to the home page</Link></p>
    </>
  )
}
