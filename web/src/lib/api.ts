// The generated client, set up for the browser session: same origin, the
// cookie sent by the browser itself, X-CSRF-Token on writes (kept in memory
// only), problems in the person's language (Accept-Language).
import { client } from "../client/client.gen";
import type { ProblemDocument } from "../client/types.gen";

let csrfToken: string | null = null;
let language = "fr";

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function setApiLanguage(lang: string): void {
  language = lang;
}

const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

client.setConfig({ baseUrl: "", credentials: "same-origin" });
client.interceptors.request.use((request) => {
  request.headers.set("Accept-Language", language);
  if (WRITES.has(request.method.toUpperCase()) && csrfToken) {
    request.headers.set("X-CSRF-Token", csrfToken);
  }
  return request;
});

/** A refusal of the API: its RFC 9457 problem document, or one made up when
 * the answer was not one (the network is down, a proxy answered). */
export class ApiProblem extends Error {
  readonly problem: ProblemDocument | null;
  readonly status: number;
  constructor(status: number, problem: ProblemDocument | null) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
  get code(): string | null {
    return this.problem?.code ?? null;
  }
}

export function isProblemDocument(value: unknown): value is ProblemDocument {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as ProblemDocument).code === "string" &&
    typeof (value as ProblemDocument).detail === "string" &&
    typeof (value as ProblemDocument).status === "number"
  );
}

type Result<T> = { data?: T; error?: unknown; response?: Response };

/** The answer's data, or an ApiProblem thrown. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch {
    throw new ApiProblem(0, null);
  }
  const status = result.response?.status ?? 0;
  if (result.error !== undefined || !result.response?.ok) {
    throw new ApiProblem(status, isProblemDocument(result.error) ? result.error : null);
  }
  return result.data as T;
}
