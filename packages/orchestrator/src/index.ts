export * from "./statuses.ts";
export * from "./run-lifecycle.ts";
export * from "./admin-config.ts";
