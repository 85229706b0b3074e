export * from "./executor.ts";
