import { Link } from '../router'

export function NotFoundPage({ pathname }: { pathname: string }) {
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>Page not found</h1>
      <p className="lede">
        There is no page at <code>{pathname}</code>. It may be coming soon, or the link may be wrong.
      </p>
      <p><Link to="/">Go to the home page</Link></p>
    </>
  )
}
