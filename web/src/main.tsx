import { QueryClientProvider } from '@tanstack/react-query'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { BrowserRouter } from 'react-router'
import { App } from './App'
import { I18nProvider, loadMessages, preferredLang } from './i18n'
import { applyTheme, storedTheme } from './lib/theme'
import { prefetchFirstPage } from './prefetch'
import { makeQueryClient } from './queryClient'
import { registerServiceWorker } from './serviceWorker'
import './index.css'

const root = document.getElementById('root')
if (!root) throw new Error('Pujo: #root element missing from index.html')

applyTheme(storedTheme())
const lang = preferredLang()
const queryClient = makeQueryClient()
prefetchFirstPage(queryClient, window.location.pathname, window.location.search)
// The offline shell and the upload queue's wake-up call; not in development, where Vite serves the files.
if (import.meta.env.PROD) registerServiceWorker()

// Bengali is a separate chunk: have it before the first paint when it is
// the reader's language, so the page never flashes English first.
void loadMessages(lang)
  .catch(() => undefined)
  .then(() => {
    createRoot(root).render(
      <StrictMode>
        <QueryClientProvider client={queryClient}>
          <I18nProvider initial={lang}>
            <BrowserRouter>
              <App />
            </BrowserRouter>
          </I18nProvider>
        </QueryClientProvider>
      </StrictMode>,
    )
  })
