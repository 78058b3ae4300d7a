import { type FormEvent, type ReactNode, useEffect, useId, useRef } from 'react';

interface DialogProps {
  readonly title: string;
  readonly open: boolean;
  readonly onClose: () => void;
  readonly onSubmit: () => void | Promise<void>;
  readonly submitLabel: string;
  readonly busy?: boolean;
  /** False while the form is incomplete (the submit button is disabled without saying "Working…"). */
  readonly canSubmit?: boolean;
  readonly error?: string | null;
  readonly children: ReactNode;
}

/**
 * A modal form on the native <dialog> (focus trapped, Escape closes, focus returns to the opener),
 * for actions that take a comment: resolve, shelve, comment, note.
 */
export function Dialog({
  title,
  open,
  onClose,
  onSubmit,
  submitLabel,
  busy,
  canSubmit = true,
  error,
  children,
}: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void onSubmit();
  };
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose}>
      <form onSubmit={submit}>
        <h2 id={titleId}>{title}</h2>
        {children}
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || !canSubmit}>
            {busy ? 'Working…' : submitLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
