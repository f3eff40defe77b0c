/**
 * Handler routing (issue 13 item 5, AsyncAPY's filters and groups) lives in
 * @herald/patterns (packages/patterns/src/routing/router.ts; docs/routing.md), the general
 * actor kind; the AsyncAProto server and this package's users keep importing it from here.
 */
export {
  HandlerFailed,
  Router,
  filters,
  routerBehavior,
  type DispatchOutcome,
  type FieldTest,
  type RouteContext,
  type RouteFilter,
  type RouteHandler,
  type RouteOptions,
  type RoutePeer,
} from '@herald/patterns';
