import { Link } from 'react-router'
import { useI18n } from '../i18n'
import { PageTitle } from '../components/PageTitle'

/** Shown for unknown paths and for anything the server answers 404 to (including private albums). */
export function NotFoundContent() {
  const { t } = useI18n()
  return (
    <div className="not-found">
      <PageTitle title={t('notfound.title')} />
      <p className="lede">{t('notfound.body')}</p>
      <p>
        <Link to="/">{t('notfound.home')}</Link>
      </p>
    </div>
  )
}

export default function NotFoundPage() {
  return <NotFoundContent />
}
