import { type InputHTMLAttributes, type ReactNode, useCallback, useId, useState } from 'react';
import { ApiError, describeError } from '../api/errors';

/** A form's submission: busy while it runs, the server's problem (with field pointers) when it fails. */
export interface Submission {
  readonly busy: boolean;
  readonly error: unknown;
  /** The message for the whole form: the problem's detail, without the fields shown next to them. */
  readonly message: string | null;
  /**
   * The server's error for one body field (`/body/key` → `key`), if any; a path names a nested
   * one (`quietHours/timeZone` takes `/body/quietHours/timeZone`, `routing/assetIds` also
   * `/body/routing/assetIds/3`).
   */
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

/** Whether a pointer is about the field at `path` (`routing/assetIds` for `/body/routing/assetIds/0`). */
export function pointerIs(pointer: string, path: string): boolean {
  const rest = pointer.replace(/^\/(body|query)\//, '');
  return rest === path || rest.startsWith(`${path}/`);
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
      .filter((e) => pointerIs(e.pointer, name))
      .map((e) => e.detail)
      .join('; ') || undefined;
  let message: string | null = null;
  if (error) {
    const unplaced = fields.filter((e) => !knownFields.some((k) => pointerIs(e.pointer, k)));
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

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'id'>;

/** A labelled text input (or any `type`) with its hint and the server's error beside it. */
export function TextField({
  label,
  value,
  onChange,
  error,
  hint,
  ...input
}: InputProps & {
  readonly label: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly error?: string | undefined;
  readonly hint?: string;
}) {
  return (
    <Field label={label} error={error} {...(hint ? { hint } : {})}>
      {(a) => <input {...input} {...a} value={value} onChange={(e) => onChange(e.target.value)} />}
    </Field>
  );
}

export interface Choice {
  readonly value: string;
  readonly label: string;
}

/** A labelled select with its hint and the server's error beside it. */
export function SelectField({
  label,
  value,
  onChange,
  options,
  error,
  hint,
  required,
  disabled,
  children,
}: {
  readonly label: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly options: readonly Choice[];
  readonly error?: string | undefined;
  readonly hint?: string;
  readonly required?: boolean;
  readonly disabled?: boolean;
  /** Extra options (optgroups) after `options`. */
  readonly children?: ReactNode;
}) {
  return (
    <Field label={label} error={error} {...(hint ? { hint } : {})}>
      {(a) => (
        <select
          {...a}
          required={required}
          disabled={disabled}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        >
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
          {children}
        </select>
      )}
    </Field>
  );
}

/** A group of checkboxes (a fieldset with its legend), its hint and the server's error for it. */
export function CheckboxGroup({
  legend,
  options,
  value,
  onChange,
  error,
  hint,
  scroll = false,
}: {
  readonly legend: string;
  readonly options: readonly (Choice & { readonly icon?: ReactNode })[];
  readonly value: readonly string[];
  readonly onChange: (value: string[]) => void;
  readonly error?: string | undefined;
  readonly hint?: string;
  /** A long list: shown in a box that scrolls. */
  readonly scroll?: boolean;
}) {
  const id = useId();
  const described = [hint ? `${id}-hint` : null, error ? `${id}-err` : null].filter(Boolean).join(' ');
  return (
    <fieldset
      className={`check-group${scroll ? ' check-group-scroll' : ''}`}
      aria-describedby={described || undefined}
      aria-invalid={error ? true : undefined}
    >
      <legend>{legend}</legend>
      {hint ? (
        <span id={`${id}-hint`} className="muted small check-group-note">
          {hint}
        </span>
      ) : null}
      {options.map((o) => (
        <label key={o.value} className="check">
          <input
            type="checkbox"
            checked={value.includes(o.value)}
            onChange={(e) =>
              onChange(
                e.target.checked
                  ? options.map((x) => x.value).filter((v) => v === o.value || value.includes(v))
                  : value.filter((v) => v !== o.value),
              )
            }
          />
          {o.icon}
          {o.label}
        </label>
      ))}
      {options.length === 0 ? (
        <span className="muted small check-group-note">None to choose from.</span>
      ) : null}
      {error ? (
        <span id={`${id}-err`} className="field-error check-group-note">
          {error}
        </span>
      ) : null}
    </fieldset>
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
