// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors';
import { formatMetrics } from '../lab/LabPage';
import { Field, FormError, pointerField, SecretOnce, useSubmission } from './forms';

afterEach(cleanup);

function KeyForm({ fail }: { fail: () => Promise<unknown> }) {
  const sub = useSubmission(['key']);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void sub.run(fail);
      }}
    >
      <Field label="Key" error={sub.field('key')}>
        {(a) => <input {...a} />}
      </Field>
      <FormError message={sub.message} />
      <button type="submit">Save</button>
    </form>
  );
}

describe('admin forms', () => {
  it('reads the field a problem pointer is about', () => {
    expect(pointerField('/body/key')).toBe('key');
    expect(pointerField('/body/permissions/0')).toBe('permissions');
    expect(pointerField('/query/to')).toBe('to');
  });

  it('shows the server’s field errors next to the field, and the rest in the form’s message', async () => {
    render(
      <KeyForm
        fail={() =>
          Promise.reject(
            new ApiError(400, {
              status: 400,
              detail: 'Invalid request',
              errors: [
                { pointer: '/body/key', detail: 'must match pattern' },
                { pointer: '/body/other', detail: 'is unknown' },
              ],
            }),
          )
        }
      />,
    );
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    });
    const input = screen.getByLabelText('Key');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    const described = document.getElementById(input.getAttribute('aria-describedby') ?? '');
    expect(described?.textContent).toBe('must match pattern');
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('Invalid request');
    expect(alert.textContent).toContain('/body/other: is unknown');
    expect(alert.textContent).not.toContain('must match pattern');
  });

  it('shows a secret once with a copy button and a plain warning', async () => {
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const done = vi.fn();
    render(<SecretOnce label="Device token" value="vdt_secret" onDone={done} />);
    expect(screen.getByText(/you will not see this again/)).toBeTruthy();
    expect(screen.getByTestId('secret-value').textContent).toBe('vdt_secret');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Copy device token' }));
    });
    expect(writeText).toHaveBeenCalledWith('vdt_secret');
    expect(screen.getByText('Copied to the clipboard.')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'I have stored it' }));
    expect(done).toHaveBeenCalled();
  });

  it('summarises model metrics', () => {
    expect(formatMetrics({ auc: 0.912345, rows: 1200, holdout: { fpr: 0.01 } })).toBe(
      'auc 0.912 · rows 1200 · holdout {fpr 0.0100}',
    );
    expect(formatMetrics(null)).toBe('—');
  });
});

describe('registry administration', () => {
  it('lists the rows and columns a refused CSV import names', async () => {
    const { importErrorRows } = await import('./RegistryAdmin');
    const err = new ApiError(422, {
      status: 422,
      detail: '2 row(s) have problems; nothing was imported',
      errors: [
        { pointer: '/rows/3/key', detail: 'must be 1–128 letters' },
        { pointer: '/header/type', detail: 'is required' },
      ],
    });
    expect(importErrorRows(err)).toEqual([
      { line: '3', column: 'key', detail: 'must be 1–128 letters' },
      { line: '1 (header)', column: 'type', detail: 'is required' },
    ]);
    expect(importErrorRows(new Error('x'))).toEqual([]);
  });

  it('sends only what changed on edit (cleared fields as null) and leaves empty fields out on create', async () => {
    const { bodyOf, KINDS } = await import('./RegistryAdmin');
    const types = KINDS.find((k) => k.kind === 'sensor-types')!;
    expect(
      bodyOf(types, { key: 'p', name: 'Pressure', unit: 'bar', validMin: '0', validMax: '' }, null),
    ).toEqual({
      key: 'p',
      name: 'Pressure',
      unit: 'bar',
      validMin: 0,
    });
    const row = {
      id: '1',
      key: 'p',
      name: 'Pressure',
      unit: 'bar',
      validMin: 0,
      validMax: 16,
      expectedIntervalS: null,
    };
    expect(
      bodyOf(
        types,
        { key: 'x', name: 'Pressure', unit: 'kPa', validMin: '0', validMax: '', expectedIntervalS: '' },
        row,
      ),
    ).toEqual({ unit: 'kPa', validMax: null });
  });
});

describe('the JSON editor', () => {
  it('shows the local syntax error and the server’s pointer errors beside the document', async () => {
    const { JsonEditor } = await import('./JsonEditor');
    const err = new ApiError(400, {
      status: 400,
      detail: 'The detector document is not valid',
      errors: [{ pointer: '/body/rules/0/clear', detail: 'a "below" rule must clear at or above its value' }],
    });
    const { rerender } = render(
      <JsonEditor label="Document" value="{" onChange={() => undefined} error={null} />,
    );
    const area = screen.getByLabelText('Document');
    expect(area.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(area.getAttribute('aria-describedby')!)?.textContent).toMatch(
      /Not valid JSON/,
    );
    rerender(<JsonEditor label="Document" value='{"rules":[]}' onChange={() => undefined} error={err} />);
    const list = document.getElementById(screen.getByLabelText('Document').getAttribute('aria-describedby')!);
    expect(list?.textContent).toBe('/rules/0/clear a "below" rule must clear at or above its value');
  });

  it('turns an alarm rule into the body PUT takes', async () => {
    const { ruleBody } = await import('./DetectionConfigPage');
    expect(
      ruleBody({
        id: 'x',
        name: 'r',
        createdAt: 't',
        sensorId: null,
        detectors: ['threshold'],
        enabled: true,
      }),
    ).toEqual({ name: 'r', detectors: ['threshold'], enabled: true });
  });
});
