import { Link } from '../router'

export function HomePage() {
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>Durga Puja, one pandal at a time</h1>
      <p className="lede">
        Pujo is a place to share the photos you take while pandal hopping, keep them in albums,
        and find every pandal by its name, its city and the year you saw it.
      </p>
      <ul className="cards">
        <li className="card">
          <h2><Link to="/pandals">Pandals</Link></h2>
          <p>Browse pandals and the photos people have shared of them.</p>
        </li>
        <li className="card">
          <h2><Link to="/search">Search</Link></h2>
          <p>Look up a pandal by name, city and year.</p>
        </li>
        <li className="card">
          <h2><Link to="/upload">Upload</Link></h2>
          <p>Add your own photos and collect them in albums.</p>
        </li>
      </ul>
      <p className="note">This is an early version: browsing, search and uploads are still being built.</p>
    </>
  )
}
