import { useId } from 'react';
import { ApiError } from '../api/errors';

/** Parses the editor's text: the value, or the syntax error to show beside it. */
export function parseJson(
  text: string,
): { value: unknown; error: null } | { value: undefined; error: string } {
  try {
    return { value: JSON.parse(text) as unknown, error: null };
  } catch (err) {
    return { value: undefined, error: `Not valid JSON: ${(err as Error).message}` };
  }
}

/** The server's pointer errors about the document (`/body/rules/0/clear` → `/rules/0/clear`). */
export function documentErrors(err: unknown): { pointer: string; detail: string }[] {
  if (!(err instanceof ApiError)) return [];
  return err.fieldErrors.map((e) => ({ pointer: e.pointer.replace(/^\/body/, '') || '/', detail: e.detail }));
}

interface JsonEditorProps {
  readonly label: string;
  readonly value: string;
  readonly onChange: (text: string) => void;
  /** The last save's failure (its pointer errors are listed beside the editor). */
  readonly error: unknown;
  readonly readOnly?: boolean;
  readonly rows?: number;
}

/**
 * A JSON document editor: a monospace text area with the local syntax error and the server's
 * validation errors, each with its JSON pointer, right beside it (and announced with it).
 */
export function JsonEditor({ label, value, onChange, error, readOnly, rows = 14 }: JsonEditorProps) {
  const id = useId();
  const syntax = value.trim() === '' ? null : parseJson(value).error;
  const problems = documentErrors(error);
  const errId = `${id}-errors`;
  const invalid = syntax !== null || problems.length > 0;
  return (
    <div className="field json-editor">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        className="code"
        spellCheck={false}
        rows={rows}
        value={value}
        readOnly={readOnly}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={invalid ? errId : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {invalid ? (
        <ul id={errId} className="field-errors" aria-live="polite">
          {syntax ? <li className="field-error">{syntax}</li> : null}
          {problems.map((p) => (
            <li key={`${p.pointer}:${p.detail}`} className="field-error">
              <code>{p.pointer}</code> {p.detail}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
