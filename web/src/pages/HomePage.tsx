import { Link } from 'react-router'
import { listPhotos } from '../api/endpoints'
import { PageTitle } from '../components/PageTitle'
import { PhotoBrowser } from '../components/PhotoBrowser'
import { useCursorList } from '../hooks/useCursorList'
import { useMe } from '../hooks/useSession'
import { useI18n } from '../i18n'
import { FEED_PAGE, keys } from '../queryClient'

export default function HomePage() {
  const { t } = useI18n()
  const me = useMe()
  const feed = useCursorList(keys.feed, (cursor, signal) => listPhotos({ cursor, limit: FEED_PAGE }, signal))
  return (
    <>
      <div className="page-head">
        <div>
          <PageTitle title={t('brand')}>{t('home.title')}</PageTitle>
          <p className="lede">{t('home.lede')}</p>
        </div>
        <p className="page-actions">
          <Link className="button" to={me ? '/upload' : '/register'}>
            {me ? t('home.cta_upload') : t('home.cta_join')}
          </Link>
        </p>
      </div>
      <h2 className="section-title">{t('home.newest')}</h2>
      <PhotoBrowser list={feed} label={t('home.newest')} empty={t('home.empty')} />
    </>
  )
}
