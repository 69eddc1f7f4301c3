import { lazy, Suspense, useEffect } from 'react'
import { Route, Routes, useLocation, useNavigationType } from 'react-router'
import { Header } from './components/Header'
import { ServerStatus } from './components/ServerStatus'
import { Loading } from './components/Status'
import { useI18n } from './i18n'

// Every page is its own chunk: the first load carries only the shell.
const HomePage = lazy(() => import('./pages/HomePage'))
const PandalsPage = lazy(() => import('./pages/PandalsPage'))
const PandalPage = lazy(() => import('./pages/PandalPage'))
const AlbumPage = lazy(() => import('./pages/AlbumPage'))
const PhotoPage = lazy(() => import('./pages/PhotoPage'))
const ProfilePage = lazy(() => import('./pages/ProfilePage'))
const SearchPage = lazy(() => import('./pages/SearchPage'))
const UploadPage = lazy(() => import('./pages/UploadPage'))
const LoginPage = lazy(() => import('./pages/LoginPage'))
const RegisterPage = lazy(() => import('./pages/RegisterPage'))
const SettingsPage = lazy(() => import('./pages/SettingsPage'))
const AuditPage = lazy(() => import('./pages/AuditPage'))
const SharedPage = lazy(() => import('./pages/SharedPage'))
const GuestUploadPage = lazy(() => import('./pages/GuestUploadPage'))
const ReviewPage = lazy(() => import('./pages/ReviewPage'))
const PosterPage = lazy(() => import('./pages/PosterPage'))
const WallPage = lazy(() => import('./pages/WallPage'))
const ReportsPage = lazy(() => import('./pages/ReportsPage'))
const NotFoundPage = lazy(() => import('./pages/NotFoundPage'))

/** New pages start at the top; back and forward keep the browser's position. */
function ScrollToTop() {
  const { pathname } = useLocation()
  const type = useNavigationType()
  useEffect(() => {
    if (type !== 'POP') window.scrollTo?.(0, 0)
  }, [pathname, type])
  return null
}

export function App() {
  const { t } = useI18n()
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        {t('skip')}
      </a>
      <ScrollToTop />
      <Header />
      <main id="main" className="site-main" tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={<HomePage />} />
            <Route path="/pandals" element={<PandalsPage />} />
            <Route path="/pandals/:id" element={<PandalPage />} />
            <Route path="/albums/:id" element={<AlbumPage />} />
            <Route path="/photos/:id" element={<PhotoPage />} />
            <Route path="/u/:username" element={<ProfilePage />} />
            <Route path="/search" element={<SearchPage />} />
            <Route path="/upload" element={<UploadPage />} />
            <Route path="/login" element={<LoginPage />} />
            <Route path="/register" element={<RegisterPage />} />
            <Route path="/settings" element={<SettingsPage />} />
            <Route path="/admin/audit" element={<AuditPage />} />
            <Route path="/s/:token" element={<SharedPage />} />
            <Route path="/g/:token" element={<GuestUploadPage />} />
            <Route path="/wall/:kind/:id" element={<WallPage />} />
            <Route path="/reports" element={<ReportsPage />} />
            <Route path="/albums/:id/review" element={<ReviewPage />} />
            <Route path="/pandals/:id/review" element={<ReviewPage of="pandal" />} />
            <Route path="/albums/:id/upload-links/:linkId/poster" element={<PosterPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Suspense>
      </main>
      <footer className="site-footer">
        <ServerStatus />
      </footer>
    </div>
  )
}
