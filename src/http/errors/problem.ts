import { ERROR_CATALOGUE, type ErrorCode, type FieldError } from './catalogue.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** RFC 9457 problem document, with Vigil's `code` and `requestId` extensions. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  instance?: string;
  errors?: readonly FieldError[];
  stack?: string;
  [extension: string]: unknown;
}

/** Problem types resolve to the documentation of each code. */
export function problemType(code: ErrorCode): string {
  return `https://vigil.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`;
}

export function buildProblem(input: {
  code: ErrorCode;
  detail?: string | undefined;
  requestId: string;
  instance?: string | undefined;
  errors?: readonly FieldError[] | undefined;
  fields?: Readonly<Record<string, unknown>> | undefined;
}): Problem {
  const entry = ERROR_CATALOGUE[input.code];
  const problem: Problem = {
    ...input.fields,
    type: problemType(input.code),
    title: entry.title,
    status: entry.status,
    detail: input.detail ?? entry.title,
    code: input.code,
    requestId: input.requestId,
  };
  if (input.instance !== undefined) problem.instance = input.instance;
  if (input.errors && input.errors.length > 0) problem.errors = input.errors;
  return problem;
}
