// Who is signed in: the browser session (cookie, set and read by the browser
// only) and its CSRF token, kept in memory and read again after a page load.
import { queryOptions } from "@tanstack/react-query";
import { currentSession, me, openSession, signOut } from "../client/sdk.gen";
import type { Me } from "../client/types.gen";
import { ApiProblem, setCsrfToken, unwrap } from "./api";

export type Signed = { me: Me } | null;

export async function loadSession(): Promise<Signed> {
  try {
    const session = await unwrap(currentSession());
    setCsrfToken(session.csrf_token);
    return { me: await unwrap(me()) };
  } catch (error) {
    if (error instanceof ApiProblem && (error.status === 401 || error.status === 404)) {
      setCsrfToken(null);
      return null;
    }
    throw error;
  }
}

export const sessionQuery = queryOptions({
  queryKey: ["session"],
  queryFn: loadSession,
  staleTime: Infinity,
  retry: false,
});

export async function signIn(username: string, password: string, otp: string | null): Promise<void> {
  const opened = await unwrap(openSession({ body: { username, password, otp: otp || null } }));
  setCsrfToken(opened.csrf_token);
}

export async function endSession(): Promise<void> {
  try {
    await unwrap(signOut());
  } finally {
    setCsrfToken(null);
  }
}

// Where a single sign-on ends when the service refuses it: the web app's
// `/?sso_error=...` (the API's start and callback routes say so). Only the
// two codes the API sends are kept; anything else is dropped.
export type SsoError = "sso_refused" | "sso_unavailable";
export type SignInSearch = { sso_error?: SsoError };

export function ssoSearch(search: Record<string, unknown>): SignInSearch {
  const code = search.sso_error;
  return code === "sso_refused" || code === "sso_unavailable" ? { sso_error: code } : {};
}
