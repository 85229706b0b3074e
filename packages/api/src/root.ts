import { catalogueRouters } from "./features/catalogue/index.ts";
import { checkpointsRouter } from "./features/checkpoints/checkpoints.router.ts";
import { compareRouter } from "./features/compare/compare.router.ts";
import { evalsRouter } from "./features/evals/evals.router.ts";
import { eventsRouter } from "./features/events/events.router.ts";
import { metricsRouter } from "./features/metrics/metrics.router.ts";
import { runsRouter } from "./features/runs/runs.router.ts";
import { samplesRouter } from "./features/samples/samples.router.ts";
import { tokensRouter } from "./features/tokens/tokens.router.ts";
import { publicProcedure, router } from "./trpc.ts";

export const appRouter = router({
  health: publicProcedure.query(() => ({ ok: true as const })),
  runs: runsRouter,
  metrics: metricsRouter,
  samples: samplesRouter,
  compare: compareRouter,
  events: eventsRouter,
  checkpoints: checkpointsRouter,
  evals: evalsRouter,
  tokens: tokensRouter,
  ...catalogueRouters,
});

/** The API's type: all @azr/client needs (a type-only import). */
export type AppRouter = typeof appRouter;
