import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ApiError, describeError } from '../api/errors';
import { useServices, useSessionState } from '../app/context';

function loginError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'INVALID_CREDENTIALS') return 'That email and password do not match an account.';
    if (err.status === 429) {
      return 'Too many attempts. Wait before trying again.';
    }
    if (err.code === 'MFA_REQUIRED' || err.code === 'MFA_INVALID')
      return 'That code was not accepted. Check your authenticator and try again.';
  }
  return describeError(err);
}

/** Sign-in: email and password, then the authenticator code when the account has one. */
export function SignIn() {
  const { session } = useServices();
  const state = useSessionState();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const codeRef = useRef<HTMLInputElement>(null);
  const secondStep = state.status === 'second-factor';
  const notice = state.status === 'signed-out' ? state.message : undefined;

  useEffect(() => {
    if (secondStep) codeRef.current?.focus();
  }, [secondStep]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (secondStep) {
        await session.secondFactor(useRecovery ? { recoveryCode: code.trim() } : { totp: code.trim() });
      } else {
        await session.login(email.trim(), password);
      }
    } catch (err) {
      setError(loginError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin" id="main">
      <form className="signin-card" onSubmit={submit} aria-labelledby="signin-title" noValidate>
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">V</span> Vigil
        </div>
        <h1 id="signin-title">{secondStep ? 'Two-step verification' : 'Sign in to the control room'}</h1>
        {notice && !secondStep ? (
          <p className="notice" role="status">
            {notice}
          </p>
        ) : null}
        {!secondStep ? (
          <>
            <label htmlFor="email">Email</label>
            <input
              id="email"
              name="email"
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
            <label htmlFor="password">Password</label>
            <input
              id="password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </>
        ) : (
          <>
            <p>
              {useRecovery
                ? 'Enter one of your recovery codes. Each works once.'
                : `Enter the 6-digit code from your authenticator app for ${state.email}.`}
            </p>
            <label htmlFor="code">{useRecovery ? 'Recovery code' : 'Authentication code'}</label>
            <input
              id="code"
              name="code"
              ref={codeRef}
              autoComplete="one-time-code"
              inputMode={useRecovery ? 'text' : 'numeric'}
              pattern={useRecovery ? undefined : '[0-9]{6}'}
              maxLength={useRecovery ? 32 : 6}
              required
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
            <button
              type="button"
              className="btn-link"
              onClick={() => {
                setUseRecovery(!useRecovery);
                setCode('');
                setError(null);
              }}
            >
              {useRecovery ? 'Use the authenticator code instead' : 'Use a recovery code instead'}
            </button>
          </>
        )}
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="signin-actions">
          {secondStep ? (
            <button
              type="button"
              className="btn"
              onClick={() => {
                session.cancelSecondFactor();
                setCode('');
                setError(null);
              }}
            >
              Back
            </button>
          ) : null}
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Signing in…' : secondStep ? 'Verify' : 'Sign in'}
          </button>
        </div>
      </form>
    </main>
  );
}
