export * from "./executor.ts";
export * from "./worker.ts";
