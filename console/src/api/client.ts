// The one way the console talks to the api: a client generated from the api's own OpenAPI
// document (src/api/openapi.json, kept equal to the server's by a Rust test), so a renamed
// route or parameter fails `tsc`, not a user. Errors come back in the api's one shape,
// `{"detail": ..., "errors"?: [...]}`, and are thrown as ApiError with that text.
import createClient from "openapi-fetch";
import type { paths } from "./schema";

export const client = createClient<paths>({ baseUrl: "/api", credentials: "same-origin" });

/** One problem the api pointed at, e.g. `{loc: "actions[1].args", msg: "..."}`. */
export interface FieldError {
  loc?: unknown;
  msg?: string;
  type?: string;
  line?: number;
  [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: FieldError[] = [],
  ) {
    super(detail);
  }
}

/** Listeners told when the session is gone (401), so the app can ask to sign in again. */
const expiredListeners = new Set<() => void>();
export function onSessionExpired(listener: () => void): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

function detailOf(body: unknown, status: number): [string, FieldError[]] {
  if (body && typeof body === "object" && "detail" in body) {
    const b = body as { detail: unknown; errors?: unknown };
    const detail = typeof b.detail === "string" ? b.detail : JSON.stringify(b.detail);
    return [detail, Array.isArray(b.errors) ? (b.errors as FieldError[]) : []];
  }
  if (typeof body === "string" && body.trim()) return [body.trim(), []];
  return [`the api answered ${status}`, []];
}

/** Unwraps an openapi-fetch call: the body on success, an ApiError otherwise. */
export async function unwrap<T>(call: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<T> {
  let result;
  try {
    result = await call;
  } catch (e) {
    throw new ApiError(0, `the api cannot be reached: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { data, error, response } = result;
  if (!response.ok) {
    if (response.status === 401 && !response.url.endsWith("/auth/login")) expiredListeners.forEach((l) => l());
    const [detail, errors] = detailOf(error, response.status);
    throw new ApiError(response.status, detail, errors);
  }
  return data as T;
}

/** A request the generated client cannot express (a YAML body, a form). */
export async function raw<T>(path: string, init: RequestInit): Promise<T> {
  return unwrap<T>(
    fetch(`/api${path}`, { credentials: "same-origin", ...init }).then(async (response) => {
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      return response.ok ? { data: body, response } : { error: body, response };
    }),
  );
}

/** The message to show for anything thrown. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  if (error instanceof Error) return error.message;
  return String(error);
}
