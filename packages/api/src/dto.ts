import type { ApiToken, BufferEntry, Checkpoint, EvalProblemResult, EvalResult, Prisma, Rollout, Run, RunEvent, Worker } from "@azr/db";

// What the API returns: plain JSON (ISO dates, bigints as decimal strings), so tRPC needs no
// transformer and the REST surface and Python callers see exactly the same shapes.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const json = (v: Prisma.JsonValue | null): JsonValue => v as JsonValue;

/** A run as lists show it: everything but the (large) config and reproducibility record. */
export interface RunSummaryDto {
  id: string;
  name: string;
  ownerId: string;
  ownerName: string | null;
  status: Run["status"];
  seed: string;
  tags: string[];
  notes: string;
  poolName: string;
  modelName: string;
  priority: number;
  attempt: number;
  totalSteps: number;
  currentStep: number;
  parentRunId: string | null;
  parentCheckpointId: string | null;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  archivedAt: string | null;
}

export interface RunDto extends RunSummaryDto {
  config: JsonValue;
  reproducibility: JsonValue;
}

export function runSummaryDto(r: Omit<Run, "config" | "reproducibility"> & { owner?: { name: string } | null }): RunSummaryDto {
  return {
    id: r.id,
    name: r.name,
    ownerId: r.ownerId,
    ownerName: r.owner?.name ?? null,
    status: r.status,
    seed: r.seed.toString(),
    tags: r.tags,
    notes: r.notes,
    poolName: r.poolName,
    modelName: r.modelName,
    priority: r.priority,
    attempt: r.attempt,
    totalSteps: r.totalSteps,
    currentStep: r.currentStep,
    parentRunId: r.parentRunId,
    parentCheckpointId: r.parentCheckpointId,
    failureReason: r.failureReason,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    queuedAt: r.queuedAt.toISOString(),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    archivedAt: iso(r.archivedAt),
  };
}

export function runDto(r: Run & { owner?: { name: string } | null }): RunDto {
  return { ...runSummaryDto(r), config: json(r.config), reproducibility: json(r.reproducibility) };
}

export interface RunEventDto {
  id: string;
  runId: string;
  kind: RunEvent["kind"];
  fromStatus: RunEvent["fromStatus"];
  toStatus: RunEvent["toStatus"];
  level: RunEvent["level"];
  actor: string;
  message: string;
  data: JsonValue;
  createdAt: string;
}

export function eventDto(e: RunEvent): RunEventDto {
  return {
    id: e.id.toString(),
    runId: e.runId,
    kind: e.kind,
    fromStatus: e.fromStatus,
    toStatus: e.toStatus,
    level: e.level,
    actor: e.actor,
    message: e.message,
    data: json(e.data),
    createdAt: e.createdAt.toISOString(),
  };
}

export interface CheckpointDto {
  id: string;
  runId: string;
  step: number;
  location: string;
  contents: JsonValue;
  sizeBytes: string;
  pinned: boolean;
  createdAt: string;
  deletedAt: string | null;
}

export function checkpointDto(c: Checkpoint): CheckpointDto {
  return {
    id: c.id,
    runId: c.runId,
    step: c.step,
    location: c.location,
    contents: json(c.contents),
    sizeBytes: c.sizeBytes.toString(),
    pinned: c.pinned,
    createdAt: c.createdAt.toISOString(),
    deletedAt: iso(c.deletedAt),
  };
}

export interface TokenDto {
  id: string;
  userId: string;
  userName: string | null;
  name: string;
  prefix: string;
  scopes: ApiToken["scopes"];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

export function tokenDto(t: ApiToken & { user?: { name: string } | null }): TokenDto {
  return {
    id: t.id,
    userId: t.userId,
    userName: t.user?.name ?? null,
    name: t.name,
    prefix: t.prefix,
    scopes: t.scopes,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: iso(t.lastUsedAt),
    expiresAt: iso(t.expiresAt),
    revokedAt: iso(t.revokedAt),
  };
}

export interface WorkerDto {
  id: string;
  runId: string;
  attempt: number;
  launcher: Worker["launcher"];
  host: string | null;
  containerId: string | null;
  status: Worker["status"];
  gpuInfo: JsonValue;
  lastHeartbeatAt: string | null;
  startedAt: string;
  endedAt: string | null;
  exitCode: number | null;
}

export function workerDto(w: Worker): WorkerDto {
  return {
    id: w.id,
    runId: w.runId,
    attempt: w.attempt,
    launcher: w.launcher,
    host: w.host,
    containerId: w.containerId,
    status: w.status,
    gpuInfo: json(w.gpuInfo),
    lastHeartbeatAt: iso(w.lastHeartbeatAt),
    startedAt: w.startedAt.toISOString(),
    endedAt: iso(w.endedAt),
    exitCode: w.exitCode,
  };
}

export interface RolloutDto {
  id: string;
  runId: string;
  step: number;
  taskType: Rollout["taskType"];
  role: Rollout["role"];
  purpose: Rollout["purpose"];
  prompt: string;
  response: string;
  parsed: JsonValue;
  valid: boolean;
  invalidReason: string | null;
  executorStatus: string | null;
  reward: number | null;
  advantage: number | null;
  promptTokens: number;
  responseTokens: number;
  createdAt: string;
}

export function rolloutDto(r: Rollout): RolloutDto {
  return {
    id: r.id.toString(),
    runId: r.runId,
    step: r.step,
    taskType: r.taskType,
    role: r.role,
    purpose: r.purpose,
    prompt: r.prompt,
    response: r.response,
    parsed: json(r.parsed),
    valid: r.valid,
    invalidReason: r.invalidReason,
    executorStatus: r.executorStatus,
    reward: r.reward,
    advantage: r.advantage,
    promptTokens: r.promptTokens,
    responseTokens: r.responseTokens,
    createdAt: r.createdAt.toISOString(),
  };
}

export interface BufferEntryDto {
  id: string;
  runId: string;
  taskType: BufferEntry["taskType"];
  program: string;
  imports: string[];
  input: string | null;
  output: string | null;
  inputs: JsonValue;
  outputs: JsonValue;
  message: string | null;
  stepAdded: number;
  origin: BufferEntry["origin"];
  createdAt: string;
}

export function bufferEntryDto(b: BufferEntry): BufferEntryDto {
  return {
    id: b.id.toString(),
    runId: b.runId,
    taskType: b.taskType,
    program: b.program,
    imports: b.imports,
    input: b.input,
    output: b.output,
    inputs: json(b.inputs),
    outputs: json(b.outputs),
    message: b.message,
    stepAdded: b.stepAdded,
    origin: b.origin,
    createdAt: b.createdAt.toISOString(),
  };
}

/** An evaluation as lists show it: everything but its settings (the resolved benchmark
 * definition, decoding, template and overrides), which `evals.get` adds. */
export interface EvalSummaryDto {
  id: string;
  runId: string | null;
  checkpointId: string | null;
  /** The checkpoint's step (periodic evaluations: the training step). */
  step: number | null;
  modelName: string | null;
  benchmark: string;
  status: EvalResult["status"];
  origin: EvalResult["origin"];
  jobId: string | null;
  poolName: string | null;
  priority: number;
  createdById: string | null;
  createdByName: string | null;
  /** pass@1 (pass@k), accuracy, solved, total. */
  scores: Record<string, number>;
  error: string | null;
  problemsTotal: number;
  problemsDone: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface EvalDto extends EvalSummaryDto {
  settings: JsonValue;
}

export function evalSummaryDto(e: Omit<EvalResult, "settings"> & { createdBy?: { name: string } | null }): EvalSummaryDto {
  return {
    id: e.id,
    runId: e.runId,
    checkpointId: e.checkpointId,
    step: e.step,
    modelName: e.modelName,
    benchmark: e.benchmark,
    status: e.status,
    origin: e.origin,
    jobId: e.jobId,
    poolName: e.poolName,
    priority: e.priority,
    createdById: e.createdById,
    createdByName: e.createdBy?.name ?? null,
    scores: e.scores as Record<string, number>,
    error: e.error,
    problemsTotal: e.problemsTotal,
    problemsDone: e.problemsDone,
    createdAt: e.createdAt.toISOString(),
    startedAt: iso(e.startedAt),
    finishedAt: iso(e.finishedAt),
  };
}

export function evalDto(e: EvalResult & { createdBy?: { name: string } | null }): EvalDto {
  return { ...evalSummaryDto(e), settings: json(e.settings) };
}

export interface EvalSampleDto {
  completion: string;
  /** What was graded: the program, the final answer, the predicted input or output. */
  extracted: string | null;
  correct: boolean;
  /** pass, wrong-answer, format, syntax, runtime-error, timeout, memory, output-limit, sandbox-failure */
  status: string;
  detail: string | null;
}

export interface EvalProblemDto {
  problemId: string;
  index: number;
  correct: number;
  n: number;
  solved: boolean;
  prompt: string;
  samples: EvalSampleDto[];
}

export function evalProblemDto(p: EvalProblemResult): EvalProblemDto {
  return { problemId: p.problemId, index: p.index, correct: p.correct, n: p.n, solved: p.solved, prompt: p.prompt, samples: p.samples as unknown as EvalSampleDto[] };
}
