import { type ReactNode, useCallback, useId, useState } from 'react';
import { ApiError, describeError } from '../api/errors';

/** A form's submission: busy while it runs, the server's problem (with field pointers) when it fails. */
export interface Submission {
  readonly busy: boolean;
  readonly error: unknown;
  /** The message for the whole form: the problem's detail, without the fields shown next to them. */
  readonly message: string | null;
  /** The server's error for one body field (`/body/key` → `key`), if any. */
  field(name: string): string | undefined;
  /** Runs `fn`; failures are kept for the form (and `ok` is false). */
  run<T>(fn: () => Promise<T>): Promise<Outcome<T>>;
  reset(): void;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false };

/** `/body/permissions/0` → `permissions`: the field a pointer is about. */
export function pointerField(pointer: string): string {
  return pointer.replace(/^\/(body|query)\//, '').split('/')[0] ?? '';
}

export function useSubmission(knownFields: readonly string[] = []): Submission {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<Outcome<T>> => {
    setBusy(true);
    setError(null);
    try {
      return { ok: true, value: await fn() };
    } catch (err) {
      setError(err);
      return { ok: false };
    } finally {
      setBusy(false);
    }
  }, []);
  const fields = error instanceof ApiError ? error.fieldErrors : [];
  const field = (name: string) =>
    fields
      .filter((e) => pointerField(e.pointer) === name)
      .map((e) => e.detail)
      .join('; ') || undefined;
  let message: string | null = null;
  if (error) {
    const unplaced = fields.filter((e) => !knownFields.includes(pointerField(e.pointer)));
    message =
      error instanceof ApiError && fields.length > 0
        ? `${error.message}${unplaced.length > 0 ? ` (${unplaced.map((e) => `${e.pointer}: ${e.detail}`).join('; ')})` : ''}`
        : describeError(error);
  }
  return { busy, error, message, field, run, reset: () => setError(null) };
}

interface FieldProps {
  readonly label: string;
  readonly error?: string | undefined;
  readonly hint?: string;
  /** Renders the control with the ids it must carry. */
  readonly children: (a: {
    id: string;
    'aria-invalid': boolean | undefined;
    'aria-describedby': string | undefined;
  }) => ReactNode;
}

/** A labelled control with its hint and the server's error for it right beside it. */
export function Field({ label, error, hint, children }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const described = [hint ? hintId : null, error ? errId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': error ? true : undefined, 'aria-describedby': described })}
      {hint ? (
        <span id={hintId} className="muted small">
          {hint}
        </span>
      ) : null}
      {error ? (
        <span id={errId} className="field-error">
          {error}
        </span>
      ) : null}
    </div>
  );
}

/**
 * A secret the server returns once (device token, API key, invitation link): shown with a copy
 * button and a plain warning that it will not be shown again.
 */
export function SecretOnce({ label, value, onDone }: { label: string; value: string; onDone: () => void }) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <section className="secret-once" aria-label={label} data-testid="secret-once">
      <p className="notice">
        <strong>Copy it now: you will not see this again.</strong> Vigil keeps only a hash of it.
      </p>
      <p className="secret-line">
        <code className="secret" data-testid="secret-value">
          {value}
        </code>
      </p>
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={() => void copy()}>
          Copy {label.toLowerCase()}
        </button>
        <button type="button" className="btn btn-primary" onClick={onDone}>
          I have stored it
        </button>
      </div>
      <output className="small muted" aria-live="polite">
        {copied === 'yes'
          ? 'Copied to the clipboard.'
          : copied === 'failed'
            ? 'The browser did not allow copying; select the text and copy it.'
            : ''}
      </output>
    </section>
  );
}

/** The form's error line (the fields have theirs beside them). */
export function FormError({ message }: { message: string | null }) {
  return message ? (
    <p className="form-error" role="alert">
      {message}
    </p>
  ) : null;
}
