import { type FormEvent, useState } from 'react';
import { describeError } from '../api/errors';
import { useMe, useServices } from '../app/context';

/**
 * Shown when the tenant requires two-step verification for this role and the account has no
 * authenticator yet (the API answers 403 MFA_ENROLLMENT_REQUIRED to everything else): confirm the
 * password, add the secret to an authenticator app, prove it with a code, keep the recovery codes.
 */
export function MfaEnrollment() {
  const { api, session } = useServices();
  const me = useMe();
  const [password, setPassword] = useState('');
  const [secret, setSecret] = useState<{ secret: string; otpauthUri: string } | null>(null);
  const [code, setCode] = useState('');
  const [recovery, setRecovery] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (e: FormEvent, fn: () => Promise<void>) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin" id="main">
      <div className="signin-card">
        <h1>Set up two-step verification</h1>
        <p>
          {me.tenant.name} requires an authenticator app for the {me.tenant.role} role. Until it is set up,
          the control room is not available to {me.user.email}.
        </p>
        {recovery ? (
          <>
            <p>
              <strong>Recovery codes.</strong> Each works once if you lose the authenticator. They are shown
              only now: store them safely.
            </p>
            <ul className="codes" data-testid="recovery-codes">
              {recovery.map((c) => (
                <li key={c}>
                  <code>{c}</code>
                </li>
              ))}
            </ul>
            <button type="button" className="btn btn-primary" onClick={() => void session.reloadMe()}>
              I have stored them — continue
            </button>
          </>
        ) : secret ? (
          <form
            onSubmit={(e) =>
              void run(e, async () => {
                const res = await api.post<{ recoveryCodes: string[] }>('/api/v1/auth/mfa/totp/activate', {
                  totp: code.trim(),
                });
                setRecovery(res.recoveryCodes);
              })
            }
          >
            <p>
              Add this key to your authenticator app (or <a href={secret.otpauthUri}>open it in the app</a> on
              this device), then enter the code it shows.
            </p>
            <p>
              <code className="secret">{secret.secret.replace(/(.{4})/g, '$1 ').trim()}</code>
            </p>
            <label htmlFor="mfa-code">Authentication code</label>
            <input
              id="mfa-code"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              required
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
            {error ? (
              <p className="form-error" role="alert">
                {error}
              </p>
            ) : null}
            <div className="signin-actions">
              <button type="submit" className="btn btn-primary" disabled={busy}>
                Activate
              </button>
            </div>
          </form>
        ) : (
          <form
            onSubmit={(e) =>
              void run(e, async () => {
                setSecret(
                  await api.post<{ secret: string; otpauthUri: string }>('/api/v1/auth/mfa/totp/enroll', {
                    password,
                  }),
                );
              })
            }
          >
            <label htmlFor="mfa-password">Confirm your password</label>
            <input
              id="mfa-password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            {error ? (
              <p className="form-error" role="alert">
                {error}
              </p>
            ) : null}
            <div className="signin-actions">
              <button type="button" className="btn" onClick={() => void session.logout()}>
                Sign out
              </button>
              <button type="submit" className="btn btn-primary" disabled={busy}>
                Continue
              </button>
            </div>
          </form>
        )}
      </div>
    </main>
  );
}
