export * from "./config.ts";
export * from "./programs.ts";
export * from "./corpus.ts";
export * from "./build.ts";
export * from "./measure.ts";
export * from "./policy.ts";
