import type { SessionManager } from '../auth/session';
import { ApiError, toApiError } from './errors';

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  readonly accept?: string;
  /** Sends `body` as it is (a string) with this content type, instead of as JSON. */
  readonly contentType?: string;
}

/** `/api/v1/alarms` + `{status: 'open'}` → `/api/v1/alarms?status=open` (empty values left out). */
export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

/**
 * The API as the signed-in user: bearer token from the session (renewed first when close to
 * expiry), JSON in and out, problem+json errors as ApiError. A 401 is answered once by renewing
 * the session and retrying; if that fails the session has expired and the UI returns to sign-in.
 */
export class Api {
  constructor(
    private readonly session: SessionManager,
    private readonly doFetch: (input: string, init?: RequestInit) => Promise<Response> = (i, init) =>
      fetch(i, init),
  ) {}

  get<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.json<T>('GET', path, opts);
  }
  post<T>(path: string, body: unknown = {}, opts: RequestOptions = {}): Promise<T> {
    return this.json<T>('POST', path, { ...opts, body });
  }
  patch<T>(path: string, body: unknown, opts: RequestOptions = {}): Promise<T> {
    return this.json<T>('PATCH', path, { ...opts, body });
  }
  put<T>(path: string, body: unknown, opts: RequestOptions = {}): Promise<T> {
    return this.json<T>('PUT', path, { ...opts, body });
  }

  delete<T = void>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.json<T>('DELETE', path, opts);
  }

  /** A non-JSON answer (CSV) as a Blob. */
  async blob(path: string, opts: RequestOptions = {}): Promise<Blob> {
    const res = await this.send('GET', path, opts);
    return res.blob();
  }

  private async json<T>(method: string, path: string, opts: RequestOptions): Promise<T> {
    const res = await this.send(method, path, opts);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async send(method: string, path: string, opts: RequestOptions, retried = false): Promise<Response> {
    const token = await this.session.token();
    if (!token) throw new ApiError(401, { status: 401, detail: 'You are signed out.' });
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: opts.accept ?? 'application/json',
    };
    if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    let res: Response;
    try {
      res = await this.doFetch(withQuery(path, opts.query), {
        method,
        headers,
        ...(opts.body !== undefined
          ? { body: opts.contentType ? String(opts.body) : JSON.stringify(opts.body) }
          : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError(0, undefined, 'The server cannot be reached.');
    }
    if (res.status === 401 && !retried) {
      if (await this.session.renew()) return this.send(method, path, opts, true);
      this.session.expire();
    }
    if (!res.ok) throw await toApiError(res);
    return res;
  }
}
