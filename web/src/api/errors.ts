import type { Problem } from './types';

/** An API answer outside 2xx, with the problem+json document when there was one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly problem: Problem | undefined;

  constructor(status: number, problem: Problem | undefined, fallback?: string) {
    super(problem?.detail ?? problem?.title ?? fallback ?? `The server answered ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem?.code;
    this.problem = problem;
  }

  /** The first field error's text, for forms (`/body/comment: is required`). */
  get fieldErrors(): { pointer: string; detail: string }[] {
    return this.problem?.errors ?? [];
  }
}

/** Reads a failed response into an ApiError (problem+json when the server sent one). */
export async function toApiError(res: Response): Promise<ApiError> {
  let problem: Problem | undefined;
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      problem = (await res.json()) as Problem;
    } catch {
      problem = undefined;
    }
  }
  return new ApiError(res.status, problem);
}

/** A sentence for a person, whatever was thrown. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429) {
      return 'Too many requests right now; wait a moment and try again.';
    }
    if (err.status === 0) return 'The server cannot be reached. Check the connection and try again.';
    const fields = err.fieldErrors.map((e) => `${e.pointer.replace(/^\/body\//, '')}: ${e.detail}`);
    return fields.length > 0 ? `${err.message} (${fields.join('; ')})` : err.message;
  }
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}
