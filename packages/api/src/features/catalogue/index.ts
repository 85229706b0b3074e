import { modelsRouter, poolsRouter, workersRouter } from "./catalogue.router.ts";

export const catalogueRouters = { pools: poolsRouter, models: modelsRouter, workers: workersRouter };
