import { useEffect, useState } from 'react'
import { getHealth, type Health } from '../api/client'
import { useI18n } from '../i18n'

type State = { kind: 'checking' } | { kind: 'up'; health: Health } | { kind: 'down' }

/** Footer line reporting `GET /api/v1/health`. */
export function ServerStatus() {
  const { t } = useI18n()
  const [state, setState] = useState<State>({ kind: 'checking' })

  useEffect(() => {
    const controller = new AbortController()
    getHealth(controller.signal).then(
      (health) => setState({ kind: 'up', health }),
      () => {
        if (!controller.signal.aborted) setState({ kind: 'down' })
      },
    )
    return () => controller.abort()
  }, [])

  let text: string
  let tone: string
  switch (state.kind) {
    case 'checking':
      text = t('status.checking')
      tone = 'checking'
      break
    case 'up':
      text = t('status.up', { status: state.health.status, version: state.health.version })
      tone = state.health.status === 'ok' ? 'ok' : 'warn'
      break
    case 'down':
      text = t('status.down')
      tone = 'down'
      break
  }

  return (
    <p className={`server-status server-status--${tone}`} role="status" data-testid="server-status">
      <span className="server-status__dot" aria-hidden="true" />
      {text}
    </p>
  )
}
