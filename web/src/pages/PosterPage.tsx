import { useQuery } from '@tanstack/react-query'
import { useParams } from 'react-router'
import { getAlbum, listUploadLinks } from '../api/endpoints'
import { PageTitle } from '../components/PageTitle'
import { Loading, ResourceError } from '../components/Status'
import { useI18n } from '../i18n'
import { keys } from '../queryClient'
import { NotFoundContent } from './NotFoundPage'

/**
 * A guest upload link as an A4 poster for the pandal: the album's name, the QR
 * code large, what to do in Bengali and English, and the address for those who
 * type it. The print stylesheet leaves out everything but the poster.
 */
export default function PosterPage() {
  const params = useParams()
  const albumId = Number(params.id)
  const linkId = Number(params.linkId)
  const { t } = useI18n()
  const album = useQuery({ queryKey: keys.album(albumId), queryFn: ({ signal }) => getAlbum(albumId, signal), enabled: albumId > 0 })
  const links = useQuery({
    queryKey: keys.uploadLinks(albumId),
    queryFn: ({ signal }) => listUploadLinks(albumId, signal),
    enabled: albumId > 0,
  })
  if (!(albumId > 0) || !(linkId > 0)) return <NotFoundContent />
  if (album.isPending || links.isPending) return <Loading />
  if (album.error) return <ResourceError error={album.error} />
  if (links.error) return <ResourceError error={links.error} />
  const link = links.data.items.find((l) => l.id === linkId)
  if (!link) return <NotFoundContent />
  const url = `${window.location.origin}${link.url}`
  return (
    <article className="poster" aria-label={t('guest.poster')}>
      <PageTitle title={album.data.title} />
      <p className="poster__lede" lang="bn">
        ছবি পাঠান! ক্যামেরায় কোডটি স্ক্যান করুন, অ্যাকাউন্ট লাগবে না।
      </p>
      <p className="poster__lede" lang="en">
        Send us your photos! Scan the code with your camera. No account needed.
      </p>
      <img className="poster__qr" src={link.qr} alt={t('guest.qr_alt', { label: link.label || album.data.title })} width={480} height={480} />
      <p className="poster__url">{url}</p>
      {link.needs_review && <p className="poster__note">{t('guest.poster_review')}</p>}
      <div className="actions poster__actions">
        <button type="button" className="button" onClick={() => window.print()}>
          {t('guest.print')}
        </button>
      </div>
    </article>
  )
}
