import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ApiProblem } from "./lib/api";
import { initI18n } from "./lib/i18n";
import { makeRouter } from "./router";
import "./styles/app.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A refusal is an answer: shown at once, not retried.
      retry: (count, error) => !(error instanceof ApiProblem && error.status > 0) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});
const router = makeRouter(queryClient);

// A session that ends (401) anywhere sends the person back to the sign-in.
queryClient.getQueryCache().subscribe((event) => {
  const error = event.query.state.error;
  if (event.type === "updated" && error instanceof ApiProblem && error.status === 401 && event.query.queryKey[0] !== "session") {
    queryClient.setQueryData(["session"], null);
    void router.navigate({ to: "/sign-in" });
  }
});

// No file is ever taken: a file dropped on the page is neither sent nor opened
// (the browser would otherwise show it in place of the app).
for (const type of ["dragover", "drop"] as const) {
  window.addEventListener(type, (event) => {
    if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
  });
}

void initI18n().then(() => {
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </StrictMode>,
  );
});
