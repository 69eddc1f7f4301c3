import { useState } from 'react'
import type { ImageLike } from '../api/types'
import { placeholderUrl, srcSet } from '../lib/photo'

/**
 * A photo with its ThumbHash placeholder behind it until the real image has
 * loaded. The placeholder is a `data:` PNG set as a background through the
 * DOM (allowed by `img-src 'self' data:`), never an inline style attribute.
 */
export function PhotoImage({
  photo,
  alt,
  sizes,
  eager = false,
  className = '',
  width,
  height,
}: {
  photo: ImageLike
  alt: string
  /** The `sizes` attribute: how wide the image is drawn. */
  sizes: string
  /** For images at the top of the page (largest contentful paint). */
  eager?: boolean
  className?: string
  width?: number
  height?: number
}) {
  const [loaded, setLoaded] = useState(false)
  const placeholder = loaded ? null : placeholderUrl(photo.thumbhash)
  return (
    <span
      className={`photo-image${loaded ? ' photo-image--loaded' : ''} ${className}`}
      style={placeholder ? { backgroundImage: `url("${placeholder}")` } : undefined}
    >
      <img
        src={photo.urls.thumb}
        srcSet={srcSet(photo)}
        sizes={sizes}
        alt={alt}
        width={width ?? photo.width}
        height={height ?? photo.height}
        loading={eager ? 'eager' : 'lazy'}
        fetchPriority={eager ? 'high' : undefined}
        decoding="async"
        onLoad={() => setLoaded(true)}
      />
    </span>
  )
}
