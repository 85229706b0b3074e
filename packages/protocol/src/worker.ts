import { z } from "zod";

// The worker protocol: messages between the control plane (TypeScript) and a GPU worker
// (apps/worker, Python). The worker is a numerics engine that knows nothing about AZR: it loads
// a policy, generates completions (keeping their tokens as rollouts), and applies PPO-clip updates
// on per-rollout advantages the control plane computes.
//
// Transport: one JSON object per WebSocket text frame. The worker dials the control plane and
// sends `hello` (with its token); then the control plane sends requests with ids and the worker
// answers each with exactly one `result` or `error` carrying that id. A message larger than the
// chunk size travels as `chunk` frames (its JSON text cut into pieces), in either direction.
//
// The Python worker validates against the JSON Schema exported from these schemas
// (`workerJsonSchema()`, written to apps/worker/azr_worker/worker.schema.json and checked in sync
// by a test), and both sides run one shared message corpus (src/worker-corpus.json).

export const WORKER_PROTOCOL_VERSION = 1;

/** Batch limits; a request beyond them is refused with an `invalid` error naming the field. */
export const WORKER_LIMITS = {
  /** Prompts per generate request (rollouts = prompts × n). */
  maxPrompts: 4096,
  maxSamplesPerPrompt: 64,
  /** Rollouts per train request, texts per sft/tokenize request. */
  maxBatch: 16384,
  /** Characters of one prompt or text. */
  maxTextChars: 1_000_000,
  maxNewTokens: 65536,
  maxStopStrings: 16,
  /** Bytes of one reassembled (chunked) message. */
  maxMessageBytes: 256 * 1024 * 1024,
  /** Default size of one chunk frame's data, characters. */
  chunkChars: 1024 * 1024,
} as const;

const requestId = z.string().min(1).max(128);
const text = z.string().max(WORKER_LIMITS.maxTextChars);
const count = z.number().int().min(0);
const seconds = z.number().min(0);
/** A path relative to the worker's data root (absolute paths and `..` are refused by the worker). */
const dataPath = z.string().min(1).max(1024);

export const workerBackendSchema = z.enum(["tiny", "hf", "vllm"]);
export type WorkerBackend = z.infer<typeof workerBackendSchema>;

export const dtypeSchema = z.enum(["float32", "bfloat16", "float16"]);

/** Shape of the `tiny` backend's byte-level causal transformer (random init from the seed). */
export const tinyConfigSchema = z.strictObject({
  nLayer: z.number().int().min(1).max(48).default(2),
  nHead: z.number().int().min(1).max(64).default(4),
  dModel: z.number().int().min(8).max(4096).default(128),
  contextLength: z.number().int().min(16).max(65536).default(512),
});
export type TinyConfig = z.input<typeof tinyConfigSchema>;

export const optimizerSchema = z.strictObject({
  lr: z.number().positive().max(1).default(1e-6),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  eps: z.number().positive().max(1).default(1e-8),
  weightDecay: z.number().min(0).max(1).default(0),
});
export type OptimizerSettings = z.input<typeof optimizerSchema>;

export const vllmSettingsSchema = z.strictObject({
  gpuMemoryUtilization: z.number().gt(0).max(1).default(0.4),
  tensorParallelSize: z.number().int().min(1).max(64).default(1),
  /** Sleep (offload weights, drop KV cache) while the trainer runs; wake to generate. */
  enableSleepMode: z.boolean().default(true),
  maxModelLen: z.number().int().min(16).optional(),
});

// ---------------------------------------------------------------- requests (control plane → worker)

export const loadRequestSchema = z.strictObject({
  type: z.literal("load"),
  id: requestId,
  /** `tiny` for the tiny backend; for hf/vllm a model directory under the data root. */
  model: z.string().min(1).max(1024),
  tiny: tinyConfigSchema.optional(),
  /** A checkpoint (under the data root) written by `save`, to start from its weights. */
  checkpoint: dataPath.optional(),
  dtype: dtypeSchema.default("float32"),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
  optimizer: optimizerSchema.default(() => optimizerSchema.parse({})),
  gradientCheckpointing: z.boolean().default(false),
  /** Keep a frozen copy of the initial policy for the KL term (only needed when klCoef > 0). */
  referenceModel: z.boolean().default(false),
  /** Honoured only if the worker's administrator allows remote code (`--allow-remote-code`). */
  trustRemoteCode: z.boolean().default(false),
  vllm: vllmSettingsSchema.optional(),
});

export const tokenizeRequestSchema = z.strictObject({
  type: z.literal("tokenize"),
  id: requestId,
  texts: z.array(text).max(WORKER_LIMITS.maxBatch),
});

export const countTokensRequestSchema = z.strictObject({
  type: z.literal("countTokens"),
  id: requestId,
  texts: z.array(text).max(WORKER_LIMITS.maxBatch),
});

export const generateRequestSchema = z.strictObject({
  type: z.literal("generate"),
  id: requestId,
  prompts: z.array(text).min(1).max(WORKER_LIMITS.maxPrompts),
  n: z.number().int().min(1).max(WORKER_LIMITS.maxSamplesPerPrompt).default(1),
  /** 0 = greedy. */
  temperature: z.number().min(0).max(10).default(1),
  topP: z.number().gt(0).max(1).default(1),
  /** -1 = off. */
  topK: z.number().int().min(-1).default(-1),
  maxTokens: z.number().int().min(1).max(WORKER_LIMITS.maxNewTokens).default(256),
  /** Generation ends at the first of these; the returned text excludes it. */
  stop: z.array(z.string().min(1).max(256)).max(WORKER_LIMITS.maxStopStrings).default([]),
  /** Same seed and same request → same completions. Without it the worker's own RNG advances. */
  seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
  /** A free label kept with the rollouts (e.g. `propose/deduction`, `learnability`). */
  tag: z.string().max(128).default(""),
  /** Keep the rollouts (token ids) for a later `train`; false for generations never trained on. */
  store: z.boolean().default(true),
  /** Keep generation-time logprobs with the rollouts (for `oldLogprobs: "generation"`). They are
   * the policy's own logprobs (temperature 1, no top-k/top-p filtering), as the trainer computes. */
  keepLogprobs: z.boolean().default(false),
  /** Ship per-token logprobs / token ids back (not shipped unless asked). */
  returnLogprobs: z.boolean().default(false),
  returnTokenIds: z.boolean().default(false),
});

export const trainItemSchema = z.strictObject({
  rolloutId: requestId,
  advantage: z.number(),
});

export const lossAggregationSchema = z.enum(["token-mean", "seq-mean-token-mean", "seq-mean-token-sum"]);
export type LossAggregation = z.infer<typeof lossAggregationSchema>;

export const trainRequestSchema = z.strictObject({
  type: z.literal("train"),
  id: requestId,
  /** One advantage per rollout, broadcast to all of its response tokens. */
  rollouts: z.array(trainItemSchema).min(1).max(WORKER_LIMITS.maxBatch),
  /** PPO ratio clip: [1 - clipLow, 1 + clipHigh]. */
  clipLow: z.number().min(0).max(1).default(0.2),
  clipHigh: z.number().min(0).max(10).default(0.2),
  /** Dual-clip constant c (> 1) bounding the loss for negative advantages; null = off. */
  dualClip: z.number().gt(1).nullable().default(null),
  /** KL-to-reference coefficient (k3 estimator); AZR uses 0. Needs `referenceModel` at load. */
  klCoef: z.number().min(0).default(0),
  entropyCoef: z.number().min(0).default(0),
  lossAggregation: lossAggregationSchema.default("token-mean"),
  /** Rollouts per optimizer step (the batch is cut in order; the last mini-batch may be smaller). */
  miniBatchSize: z.number().int().min(1).max(WORKER_LIMITS.maxBatch).default(128),
  /** Rollouts per forward/backward pass (gradient accumulation inside a mini-batch). */
  microBatchSize: z.number().int().min(1).max(WORKER_LIMITS.maxBatch).default(8),
  epochs: z.number().int().min(1).max(16).default(1),
  gradClip: z.number().positive().default(1),
  /** Overrides the optimizer's learning rate from this update on. */
  lr: z.number().positive().max(1).optional(),
  /** `recompute` (default, as veRL): old logprobs from the trainer before the update;
   * `generation`: the ones kept at generation time (needs keepLogprobs). */
  oldLogprobs: z.enum(["recompute", "generation"]).default("recompute"),
  /** Drop the rollouts once trained on. */
  release: z.boolean().default(true),
});

export const sftRequestSchema = z.strictObject({
  type: z.literal("sft"),
  id: requestId,
  texts: z.array(text).min(1).max(WORKER_LIMITS.maxBatch),
  /** Texts per optimizer step. */
  batchSize: z.number().int().min(1).max(WORKER_LIMITS.maxBatch).default(8),
  microBatchSize: z.number().int().min(1).max(WORKER_LIMITS.maxBatch).default(8),
  epochs: z.number().int().min(1).max(1000).default(1),
  lr: z.number().positive().max(1).optional(),
  gradClip: z.number().positive().default(1),
});

export const releaseRequestSchema = z.strictObject({
  type: z.literal("release"),
  id: requestId,
  rolloutIds: z.array(requestId).max(WORKER_LIMITS.maxBatch * 4).default([]),
  all: z.boolean().default(false),
});

export const saveRequestSchema = z.strictObject({ type: z.literal("save"), id: requestId, path: dataPath });
export const restoreRequestSchema = z.strictObject({ type: z.literal("restore"), id: requestId, path: dataPath });
export const statsRequestSchema = z.strictObject({ type: z.literal("stats"), id: requestId });
export const pingRequestSchema = z.strictObject({ type: z.literal("ping"), id: requestId });
export const shutdownRequestSchema = z.strictObject({ type: z.literal("shutdown"), id: requestId });

export const workerRequestSchemas = {
  load: loadRequestSchema,
  tokenize: tokenizeRequestSchema,
  countTokens: countTokensRequestSchema,
  generate: generateRequestSchema,
  train: trainRequestSchema,
  sft: sftRequestSchema,
  release: releaseRequestSchema,
  save: saveRequestSchema,
  restore: restoreRequestSchema,
  stats: statsRequestSchema,
  ping: pingRequestSchema,
  shutdown: shutdownRequestSchema,
} as const;

export type WorkerOp = keyof typeof workerRequestSchemas;
export const workerOps = Object.keys(workerRequestSchemas) as WorkerOp[];

export const workerRequestSchema = z.discriminatedUnion("type", [
  loadRequestSchema,
  tokenizeRequestSchema,
  countTokensRequestSchema,
  generateRequestSchema,
  trainRequestSchema,
  sftRequestSchema,
  releaseRequestSchema,
  saveRequestSchema,
  restoreRequestSchema,
  statsRequestSchema,
  pingRequestSchema,
  shutdownRequestSchema,
]);
/** What a caller writes (defaults optional). */
export type WorkerRequest = z.input<typeof workerRequestSchema>;
/** What the worker sees after defaults are applied. */
export type ParsedWorkerRequest = z.output<typeof workerRequestSchema>;
export type WorkerRequestOf<K extends WorkerOp> = z.input<(typeof workerRequestSchemas)[K]>;

// ---------------------------------------------------------------- results (worker → control plane)

export const loadResultSchema = z.strictObject({
  backend: workerBackendSchema,
  model: z.string(),
  parameters: count,
  vocabSize: count,
  contextLength: count,
  device: z.string(),
  dtype: dtypeSchema,
  step: count,
});

export const tokenizeResultSchema = z.strictObject({ ids: z.array(z.array(count)) });
export const countTokensResultSchema = z.strictObject({ counts: z.array(count) });

export const finishReasonSchema = z.enum(["stop", "length"]);

export const rolloutSchema = z.strictObject({
  /** null when the request said `store: false`. */
  rolloutId: z.string().nullable(),
  promptIndex: count,
  sampleIndex: count,
  text: z.string(),
  promptTokens: count,
  completionTokens: count,
  /** `stop`: end-of-sequence token or a stop string; `length`: maxTokens or the context ran out. */
  finishReason: finishReasonSchema,
  /** The stop string that ended the completion, if any. */
  stopString: z.string().nullable(),
  tokenIds: z.array(count).optional(),
  logprobs: z.array(z.number()).optional(),
});
export type Rollout = z.infer<typeof rolloutSchema>;

export const generateResultSchema = z.strictObject({
  /** prompts × n, prompt-major: rollouts[i * n + j] is sample j of prompt i. */
  rollouts: z.array(rolloutSchema),
  promptTokens: count,
  completionTokens: count,
  seconds,
  tokensPerSecond: z.number().min(0),
});

export const trainResultSchema = z.strictObject({
  /** Optimizer steps taken since the model was created (saved in checkpoints). */
  step: count,
  optimizerSteps: count,
  loss: z.number(),
  pgLoss: z.number(),
  klLoss: z.number(),
  /** Pre-clip gradient norm, mean over this update's optimizer steps; each one in gradNorms. */
  gradNorm: z.number(),
  gradNorms: z.array(z.number()),
  clipFraction: z.number(),
  /** Mean over response tokens of (old logprob − new logprob), measured during the update. */
  approxKl: z.number(),
  entropy: z.number(),
  tokens: count,
  seconds,
  tokensPerSecond: z.number().min(0),
});

export const sftResultSchema = z.strictObject({
  step: count,
  /** Mean next-token loss of each optimizer step, in order. */
  losses: z.array(z.number()),
  tokens: count,
  seconds,
  tokensPerSecond: z.number().min(0),
});

export const releaseResultSchema = z.strictObject({ released: count, remaining: count });
export const saveResultSchema = z.strictObject({ path: z.string(), step: count, bytes: count });
export const restoreResultSchema = z.strictObject({ step: count });
export const statsResultSchema = z.strictObject({
  backend: workerBackendSchema,
  model: z.string().nullable(),
  step: count,
  rollouts: count,
  parameters: count,
  device: z.string(),
  rssBytes: count,
  gpuMemoryBytes: count.nullable(),
  uptimeSeconds: seconds,
  requests: count,
  worldSize: z.number().int().min(1),
});
export const pingResultSchema = z.strictObject({});
export const shutdownResultSchema = z.strictObject({});

export const workerResultSchemas = {
  load: loadResultSchema,
  tokenize: tokenizeResultSchema,
  countTokens: countTokensResultSchema,
  generate: generateResultSchema,
  train: trainResultSchema,
  sft: sftResultSchema,
  release: releaseResultSchema,
  save: saveResultSchema,
  restore: restoreResultSchema,
  stats: statsResultSchema,
  ping: pingResultSchema,
  shutdown: shutdownResultSchema,
} as const satisfies Record<WorkerOp, z.ZodType>;
export type WorkerResultOf<K extends WorkerOp> = z.output<(typeof workerResultSchemas)[K]>;

function resultMessage<K extends WorkerOp>(op: K) {
  return z.strictObject({ type: z.literal("result"), id: requestId, op: z.literal(op), result: workerResultSchemas[op] });
}

export const resultMessageSchema = z.discriminatedUnion("op", [
  resultMessage("load"),
  resultMessage("tokenize"),
  resultMessage("countTokens"),
  resultMessage("generate"),
  resultMessage("train"),
  resultMessage("sft"),
  resultMessage("release"),
  resultMessage("save"),
  resultMessage("restore"),
  resultMessage("stats"),
  resultMessage("ping"),
  resultMessage("shutdown"),
]);

export const workerErrorCodeSchema = z.enum([
  /** The message is not valid JSON or fails the schema (message names the field). */
  "invalid",
  "unknown-type",
  /** A rollout id or checkpoint that does not exist. */
  "not-found",
  "oversized",
  "not-loaded",
  /** The backend's optional dependency is missing (message says what to install). */
  "backend-unavailable",
  /** A path outside the data root, or remote code not allowed. */
  "forbidden",
  /** The request cannot run in this state (e.g. klCoef > 0 without a reference model). */
  "failed-precondition",
  "internal",
]);
export type WorkerErrorCode = z.infer<typeof workerErrorCodeSchema>;

export const errorMessageSchema = z.strictObject({
  type: z.literal("error"),
  /** The request id; null when the message was too broken to read one. */
  id: requestId.nullable(),
  code: workerErrorCodeSchema,
  message: z.string(),
});

export const deviceInfoSchema = z.strictObject({
  kind: z.enum(["cpu", "cuda"]),
  name: z.string(),
  memoryBytes: count,
});

export const helloMessageSchema = z.strictObject({
  type: z.literal("hello"),
  protocol: z.literal(WORKER_PROTOCOL_VERSION),
  workerId: z.string().min(1).max(128),
  token: z.string().max(4096),
  backend: workerBackendSchema,
  /** The loaded model, if any (a reconnecting worker keeps its state). */
  model: z.string().nullable(),
  devices: z.array(deviceInfoSchema),
  memoryBytes: count,
  versions: z.record(z.string(), z.string()),
  pid: z.number().int(),
  worldSize: z.number().int().min(1),
  /** True when this is a reconnection of a worker that already said hello. */
  reconnect: z.boolean(),
});
export type WorkerHello = z.infer<typeof helloMessageSchema>;

export const heartbeatMessageSchema = z.strictObject({
  type: z.literal("heartbeat"),
  /** The request being served, if any. */
  busy: requestId.nullable(),
  uptimeSeconds: seconds,
});

export const progressMessageSchema = z.strictObject({
  type: z.literal("progress"),
  id: requestId,
  op: z.enum(workerOps as [WorkerOp, ...WorkerOp[]]),
  done: count,
  total: count,
});

/** A piece of a large message's JSON text; pieces of one message share `id` and arrive in order. */
export const chunkMessageSchema = z.strictObject({
  type: z.literal("chunk"),
  id: requestId,
  seq: count,
  last: z.boolean(),
  data: z.string().max(64 * 1024 * 1024),
});
export type ChunkMessage = z.infer<typeof chunkMessageSchema>;

/** Everything the worker sends (after reassembling chunks). */
export const workerMessageSchema = z.union([
  resultMessageSchema,
  errorMessageSchema,
  helloMessageSchema,
  heartbeatMessageSchema,
  progressMessageSchema,
]);
export type WorkerMessage = z.infer<typeof workerMessageSchema>;
export type ResultMessage = z.infer<typeof resultMessageSchema>;
export type ErrorMessage = z.infer<typeof errorMessageSchema>;

// ---------------------------------------------------------------- chunking

/** Serialises a message, cutting it into chunk frames when its JSON text exceeds `chunkChars`. */
export function encodeFrames(message: object, chunkChars: number = WORKER_LIMITS.chunkChars): string[] {
  const json = JSON.stringify(message);
  if (json.length <= chunkChars) return [json];
  const given = (message as { id?: unknown }).id;
  const id = typeof given === "string" && given ? given : "stream";
  const frames: string[] = [];
  for (let seq = 0, at = 0; at < json.length; seq++, at += chunkChars) {
    const data = json.slice(at, at + chunkChars);
    frames.push(JSON.stringify({ type: "chunk", id, seq, last: at + chunkChars >= json.length, data } satisfies ChunkMessage));
  }
  return frames;
}

/** Reassembles chunk frames; `push` returns the complete JSON text when the last piece arrives. */
export class ChunkAssembler {
  private readonly parts = new Map<string, { next: number; data: string[]; size: number }>();
  constructor(private readonly maxChars: number = WORKER_LIMITS.maxMessageBytes) {}

  push(chunk: ChunkMessage): string | null {
    const entry = this.parts.get(chunk.id) ?? { next: 0, data: [], size: 0 };
    if (chunk.seq !== entry.next) {
      this.parts.delete(chunk.id);
      throw new Error(`chunk ${chunk.seq} of ${chunk.id} out of order (expected ${entry.next})`);
    }
    entry.size += chunk.data.length;
    if (entry.size > this.maxChars) {
      this.parts.delete(chunk.id);
      throw new Error(`message ${chunk.id} exceeds ${this.maxChars} characters`);
    }
    entry.data.push(chunk.data);
    entry.next++;
    if (!chunk.last) {
      this.parts.set(chunk.id, entry);
      return null;
    }
    this.parts.delete(chunk.id);
    return entry.data.join("");
  }

  clear(): void {
    this.parts.clear();
  }
}

// ---------------------------------------------------------------- JSON Schema export

/** The JSON Schema document the Python worker validates with: one `$defs` entry per message
 * (`request.<op>`, `result.<op>`, `hello`, `heartbeat`, `progress`, `error`, `chunk`). */
export function workerJsonSchema(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  const convert = (schema: z.ZodType, io: "input" | "output") => {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, target: "draft-2020-12", unrepresentable: "throw" }) as Record<string, unknown>;
    return rest;
  };
  for (const op of workerOps) {
    defs[`request.${op}`] = convert(workerRequestSchemas[op], "input");
    defs[`result.${op}`] = convert(workerResultSchemas[op], "output");
  }
  defs.hello = convert(helloMessageSchema, "output");
  defs.heartbeat = convert(heartbeatMessageSchema, "output");
  defs.progress = convert(progressMessageSchema, "output");
  defs.error = convert(errorMessageSchema, "output");
  defs.chunk = convert(chunkMessageSchema, "output");
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://azr.local/schemas/worker.schema.json",
    title: "AZR worker protocol",
    version: WORKER_PROTOCOL_VERSION,
    limits: WORKER_LIMITS,
    $defs: defs,
  };
}
