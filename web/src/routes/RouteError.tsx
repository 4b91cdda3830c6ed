// What a screen shows when it cannot be shown: its code could not be loaded
// (the network dropped, or a new version replaced it) or the API refused
// what the route needed first. Said as a problem in the person's language,
// with a way to try again; never the router's own error (English, with the
// error's message, and styled inline, which the CSP blocks).
import type { ErrorComponentProps } from "@tanstack/react-router";
import { ApiProblem } from "../lib/api";
import { ProblemView } from "./Problem";

export function RouteError({ error }: ErrorComponentProps) {
  // Anything but the API's answer (a module that did not load) is the network's.
  const shown = error instanceof ApiProblem ? error : new ApiProblem(0, null);
  return (
    <section>
      <ProblemView error={shown} onRetry={() => window.location.reload()} />
    </section>
  );
}
