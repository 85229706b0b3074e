import type { z } from "zod";
import {
  chunkMessageSchema,
  errorMessageSchema,
  heartbeatMessageSchema,
  helloMessageSchema,
  progressMessageSchema,
  workerRequestSchema,
  workerRequestSchemas,
  workerResultSchemas,
  type WorkerOp,
} from "./worker.ts";

/** One entry of the shared message corpus (worker-corpus.json), run by the zod schemas here and by
 * the Python worker's validator (apps/worker/tests/test_protocol.py): both must agree on `valid`
 * and, for valid messages, on `parsed` (the message with defaults applied). */
export interface CorpusEntry {
  name: string;
  /** `request` (any request, dispatched on `type`), `request.<op>`, `result.<op>`, or a message type. */
  schema: string;
  valid: boolean;
  message: unknown;
  parsed?: unknown;
}

export function corpusSchemaFor(name: string): z.ZodType {
  if (name === "request") return workerRequestSchema;
  const [kind, op] = name.split(".") as [string, WorkerOp | undefined];
  if (kind === "request" && op && op in workerRequestSchemas) return workerRequestSchemas[op];
  if (kind === "result" && op && op in workerResultSchemas) return workerResultSchemas[op];
  const messages: Record<string, z.ZodType> = {
    hello: helloMessageSchema,
    heartbeat: heartbeatMessageSchema,
    progress: progressMessageSchema,
    error: errorMessageSchema,
    chunk: chunkMessageSchema,
  };
  const schema = messages[name];
  if (!schema) throw new Error(`no schema named ${name}`);
  return schema;
}
