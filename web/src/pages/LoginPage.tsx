import { useMutation } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { ApiError } from '../api/client'
import { login } from '../api/endpoints'
import { TextField } from '../components/Field'
import { FormError } from '../components/FormError'
import { PageTitle } from '../components/PageTitle'
import { safeNext } from '../components/RequireLogin'
import { useSetSession } from '../hooks/useSession'
import { useI18n } from '../i18n'

export default function LoginPage() {
  const { t } = useI18n()
  const navigate = useNavigate()
  const [params] = useSearchParams()
  const next = safeNext(params.get('next'))
  const setSession = useSetSession()
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const mutation = useMutation({
    mutationFn: () => login(name.trim(), password),
    onSuccess: (me) => {
      setSession(me)
      navigate(next, { replace: true })
    },
  })

  const submit = (event: FormEvent) => {
    event.preventDefault()
    mutation.mutate()
  }
  const wrong = mutation.error instanceof ApiError && mutation.error.status === 401

  return (
    <div className="narrow">
      <PageTitle title={t('login.title')} />
      <form className="form" onSubmit={submit}>
        <TextField
          label={t('login.login')}
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
        />
        <TextField
          label={t('login.password')}
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        <FormError error={mutation.error} override={wrong ? t('login.wrong') : undefined} />
        <button className="button" type="submit" disabled={mutation.isPending}>
          {mutation.isPending ? t('common.working') : t('login.submit')}
        </button>
      </form>
      <p>
        {t('login.no_account')} <Link to={`/register${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`}>{t('nav.register')}</Link>
      </p>
    </div>
  )
}
