// The app's routes. Their first path segments are the ones the service
// serves the app at (public/app-paths.json; router.test.ts keeps them equal).
import type { QueryClient } from "@tanstack/react-query";
import {
  createRootRouteWithContext,
  createRoute,
  createRouter,
  lazyRouteComponent,
  redirect,
} from "@tanstack/react-router";
import type { CaseStatus } from "./client/types.gen";
import { GridPage } from "./grid/GridPage";
import { STATUSES } from "./lib/labels";
import { landing } from "./lib/landing";
import { sessionQuery, ssoSearch } from "./lib/session";
import { RouteError } from "./routes/RouteError";
import { CaseList, type CaseListSearch } from "./routes/CaseList";
import { CasePage } from "./routes/CasePage";
import { Layout } from "./routes/Layout";
import { NotFound } from "./routes/NotFound";
import { OpenCase } from "./routes/OpenCase";
import { DpjList } from "./routes/DpjList";
import { PoliceFeed, type PoliceFeedSearch } from "./routes/PoliceFeed";
import { SecondFactor } from "./routes/SecondFactor";
import { SignIn } from "./routes/SignIn";

type Context = { queryClient: QueryClient };

const rootRoute = createRootRouteWithContext<Context>()({ component: Layout, notFoundComponent: NotFound });

const signInRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "sign-in",
  component: SignIn,
  validateSearch: ssoSearch,
});

const secondFactorRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "second-factor",
  component: SecondFactor,
  beforeLoad: async ({ context }) => {
    const session = await context.queryClient.ensureQueryData(sessionQuery);
    if (!session) throw redirect({ to: "/sign-in" });
  },
});

// Everything below needs a session, and a second factor where the role requires one.
const signedInRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "signed-in",
  beforeLoad: async ({ context, location }) => {
    const session = await context.queryClient.ensureQueryData(sessionQuery);
    // A refused single sign-on comes back to `/?sso_error=...`: the sign-in page says so.
    if (!session) throw redirect({ to: "/sign-in", search: ssoSearch(location.search as Record<string, unknown>) });
    if (session.me.mfa_enrolment_required) throw redirect({ to: "/second-factor" });
  },
});

const indexRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "/",
  // Each role lands on its own list: police on their force's feed, DPJ reporters on the cases to report.
  beforeLoad: async ({ context }) => {
    const session = await context.queryClient.ensureQueryData(sessionQuery);
    throw redirect({ to: landing(session?.me.role) });
  },
});

const casesRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "cases",
  component: CaseList,
  validateSearch: (search: Record<string, unknown>): CaseListSearch => ({
    ...(STATUSES.includes(search.status as CaseStatus) ? { status: search.status as CaseStatus } : {}),
    ...(typeof search.cursor === "string" && search.cursor ? { cursor: search.cursor } : {}),
  }),
});

const openCaseRoute = createRoute({ getParentRoute: () => signedInRoute, path: "cases/new", component: OpenCase });

const gridRoute = createRoute({ getParentRoute: () => signedInRoute, path: "cases/$caseId/grid", component: GridPage });

const caseRoute = createRoute({ getParentRoute: () => signedInRoute, path: "cases/$caseId", component: CasePage });

const policeRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "police",
  component: PoliceFeed,
  validateSearch: (search: Record<string, unknown>): PoliceFeedSearch =>
    typeof search.page === "string" && search.page ? { page: search.page } : {},
});

const dpjRoute = createRoute({ getParentRoute: () => signedInRoute, path: "dpj", component: DpjList });

// The oversight screens are loaded when opened: the other roles never download them.
const auditRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "audit",
  component: lazyRouteComponent(() => import("./routes/AuditPage"), "AuditPage"),
});

const accessLogRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "audit/cases/$caseId",
  component: lazyRouteComponent(() => import("./routes/AccessLogPage"), "AccessLogPage"),
});

const privacyRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "privacy",
  component: lazyRouteComponent(() => import("./routes/PrivacyPage"), "PrivacyPage"),
});

const accountRoute = createRoute({ getParentRoute: () => signedInRoute, path: "account", component: lazyRouteComponent(() => import("./routes/Account"), "Account") });

// The people who approve their organization's identity providers.
const providerApprovalsRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "identity-providers",
  component: lazyRouteComponent(() => import("./routes/ProviderApprovals"), "ProviderApprovals"),
});

// The admin's screens (the API refuses them to anyone else), loaded when first shown.
const adminRoute = createRoute({ getParentRoute: () => signedInRoute, path: "admin", component: lazyRouteComponent(() => import("./routes/admin/AdminHome"), "AdminHome") });
const adminOrgsRoute = createRoute({ getParentRoute: () => signedInRoute, path: "admin/organisations", component: lazyRouteComponent(() => import("./routes/admin/Organisations"), "Organisations") });
const adminAgreementsRoute = createRoute({ getParentRoute: () => signedInRoute, path: "admin/agreements", component: lazyRouteComponent(() => import("./routes/admin/Agreements"), "Agreements") });
const adminUsersRoute = createRoute({ getParentRoute: () => signedInRoute, path: "admin/users", component: lazyRouteComponent(() => import("./routes/admin/Users"), "Users") });
const adminUserRoute = createRoute({ getParentRoute: () => signedInRoute, path: "admin/users/$userId", component: lazyRouteComponent(() => import("./routes/admin/UserPage"), "UserPage") });
const adminServicesRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "admin/service-accounts",
  component: lazyRouteComponent(() => import("./routes/admin/ServiceAccounts"), "ServiceAccounts"),
});
const adminProvidersRoute = createRoute({
  getParentRoute: () => signedInRoute,
  path: "admin/identity-providers",
  component: lazyRouteComponent(() => import("./routes/admin/IdentityProviders"), "IdentityProviders"),
});

const accountAndAdminRoutes = [
  accountRoute,
  providerApprovalsRoute,
  adminRoute,
  adminOrgsRoute,
  adminAgreementsRoute,
  adminUsersRoute,
  adminUserRoute,
  adminServicesRoute,
  adminProvidersRoute,
];

export const routeTree = rootRoute.addChildren([
  signInRoute,
  secondFactorRoute,
  signedInRoute.addChildren([
    indexRoute,
    casesRoute,
    openCaseRoute,
    caseRoute,
    gridRoute,
    policeRoute,
    dpjRoute,
    auditRoute,
    accessLogRoute,
    privacyRoute,
    ...accountAndAdminRoutes,
  ]),
]);

export function makeRouter(queryClient: QueryClient) {
  return createRouter({ routeTree, context: { queryClient }, defaultPreload: false, defaultErrorComponent: RouteError });
}

declare module "@tanstack/react-router" {
  interface Register {
    router: ReturnType<typeof makeRouter>;
  }
}
