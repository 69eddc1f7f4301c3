import { useMutation } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'
import { getProofChallenge, register } from '../api/endpoints'
import { TextField } from '../components/Field'
import { FormError, fieldErrors } from '../components/FormError'
import { PageTitle } from '../components/PageTitle'
import { safeNext } from '../components/RequireLogin'
import { useSetSession } from '../hooks/useSession'
import { useI18n } from '../i18n'
import { solve } from '../lib/proof'

export default function RegisterPage() {
  const { t } = useI18n()
  const navigate = useNavigate()
  const [params] = useSearchParams()
  const next = safeNext(params.get('next'))
  const setSession = useSetSession()
  const [username, setUsername] = useState('')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [displayName, setDisplayName] = useState('')
  const mutation = useMutation({
    // An account costs the browser a little work first (a fraction of a second), so
    // that a script cannot mint accounts for nothing.
    mutationFn: async () =>
      register(
        {
          username: username.trim(),
          email: email.trim(),
          password,
          ...(displayName.trim() ? { display_name: displayName.trim() } : {}),
        },
        await solve(await getProofChallenge('register')),
      ),
    onSuccess: (me) => {
      setSession(me)
      navigate(next, { replace: true })
    },
  })
  const errors = fieldErrors(mutation.error)

  const submit = (event: FormEvent) => {
    event.preventDefault()
    mutation.mutate()
  }

  return (
    <div className="narrow">
      <PageTitle title={t('register.title')} />
      <p className="lede">{t('register.lede')}</p>
      <form className="form" onSubmit={submit}>
        <TextField
          label={t('register.username')}
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          required
          minLength={3}
          maxLength={32}
          pattern="[A-Za-z0-9._\-]+"
          hint={t('register.username_hint')}
          error={errors.username}
        />
        <TextField
          label={t('register.email')}
          name="email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
          error={errors.email}
        />
        <TextField
          label={t('register.password')}
          name="new-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          minLength={10}
          maxLength={128}
          hint={t('register.password_hint')}
          error={errors.password}
        />
        <TextField
          label={t('register.display_name')}
          name="name"
          autoComplete="nickname"
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
          error={errors.display_name}
        />
        <FormError error={mutation.error} />
        <button className="button" type="submit" disabled={mutation.isPending}>
          {mutation.isPending ? t('common.working') : t('register.submit')}
        </button>
      </form>
      <p>
        {t('register.have_account')} <Link to="/login">{t('nav.login')}</Link>
      </p>
    </div>
  )
}
