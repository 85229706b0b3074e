-- Initial schema. Hand-written in the SQL Prisma Migrate would generate for prisma/schema.prisma
-- (same types, names and defaults), plus the pg_trgm extension the trigram indexes need.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- CreateEnum
CREATE TYPE "TokenScope" AS ENUM ('read', 'write', 'admin');
CREATE TYPE "RunStatus" AS ENUM ('queued', 'provisioning', 'running', 'checkpointing', 'paused', 'completed', 'failed', 'cancelled');
CREATE TYPE "RunEventKind" AS ENUM ('transition', 'log', 'system');
CREATE TYPE "LogLevel" AS ENUM ('debug', 'info', 'warn', 'error');
CREATE TYPE "TaskType" AS ENUM ('deduction', 'abduction', 'induction');
CREATE TYPE "TaskRole" AS ENUM ('propose', 'solve');
CREATE TYPE "BufferOrigin" AS ENUM ('seed', 'proposed', 'imported');
CREATE TYPE "RolloutPurpose" AS ENUM ('train', 'learnability');
CREATE TYPE "LauncherKind" AS ENUM ('local', 'docker', 'kubernetes');
CREATE TYPE "WorkerStatus" AS ENUM ('starting', 'ready', 'busy', 'stopping', 'exited', 'lost');
CREATE TYPE "EvalStatus" AS ENUM ('queued', 'running', 'completed', 'failed', 'cancelled');

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT,
    "isAdmin" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "ApiToken" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "scopes" "TokenScope"[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3),
    "expiresAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiToken_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "WorkerToken" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "secretHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "connectedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "WorkerToken_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "Run" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "ownerId" TEXT NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'queued',
    "config" JSONB NOT NULL,
    "configVersion" INTEGER NOT NULL DEFAULT 1,
    "seed" BIGINT NOT NULL,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "notes" TEXT NOT NULL DEFAULT '',
    "poolName" TEXT NOT NULL,
    "modelName" TEXT NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "totalSteps" INTEGER NOT NULL,
    "currentStep" INTEGER NOT NULL DEFAULT 0,
    "parentRunId" TEXT,
    "parentCheckpointId" TEXT,
    "reproducibility" JSONB,
    "failureReason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "queuedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "archivedAt" TIMESTAMP(3),

    CONSTRAINT "Run_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "RunEvent" (
    "id" BIGSERIAL NOT NULL,
    "runId" TEXT NOT NULL,
    "kind" "RunEventKind" NOT NULL,
    "fromStatus" "RunStatus",
    "toStatus" "RunStatus",
    "level" "LogLevel" NOT NULL DEFAULT 'info',
    "actor" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "data" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RunEvent_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "Step" (
    "runId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),
    "durationMs" INTEGER,
    "timings" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "Step_pkey" PRIMARY KEY ("runId","index")
);

CREATE TABLE "MetricSeries" (
    "id" SERIAL NOT NULL,
    "runId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "lastStep" INTEGER,
    "lastValue" DOUBLE PRECISION,
    "count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "MetricSeries_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "MetricPoint" (
    "seriesId" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "wallTime" TIMESTAMP(3) NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "MetricPoint_pkey" PRIMARY KEY ("seriesId","step")
);

CREATE TABLE "BufferEntry" (
    "id" BIGSERIAL NOT NULL,
    "runId" TEXT NOT NULL,
    "taskType" "TaskType" NOT NULL,
    "program" TEXT NOT NULL,
    "imports" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "input" TEXT,
    "output" TEXT,
    "inputs" JSONB,
    "outputs" JSONB,
    "message" TEXT,
    "stepAdded" INTEGER NOT NULL,
    "origin" "BufferOrigin" NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BufferEntry_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "Rollout" (
    "id" BIGSERIAL NOT NULL,
    "runId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "taskType" "TaskType" NOT NULL,
    "role" "TaskRole" NOT NULL,
    "purpose" "RolloutPurpose" NOT NULL DEFAULT 'train',
    "prompt" TEXT NOT NULL,
    "response" TEXT NOT NULL,
    "parsed" JSONB,
    "valid" BOOLEAN NOT NULL,
    "invalidReason" TEXT,
    "executorStatus" TEXT,
    "reward" DOUBLE PRECISION,
    "advantage" DOUBLE PRECISION,
    "promptTokens" INTEGER NOT NULL,
    "responseTokens" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Rollout_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "Checkpoint" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "location" TEXT NOT NULL,
    "contents" JSONB NOT NULL,
    "sizeBytes" BIGINT NOT NULL,
    "pinned" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" TIMESTAMP(3),

    CONSTRAINT "Checkpoint_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "ResourcePool" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "launcher" "LauncherKind" NOT NULL,
    "config" JSONB NOT NULL,
    "concurrency" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ResourcePool_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "Worker" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "launcher" "LauncherKind" NOT NULL,
    "host" TEXT,
    "containerId" TEXT,
    "status" "WorkerStatus" NOT NULL DEFAULT 'starting',
    "gpuInfo" JSONB,
    "lastHeartbeatAt" TIMESTAMP(3),
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMP(3),
    "exitCode" INTEGER,

    CONSTRAINT "Worker_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "EvalResult" (
    "id" TEXT NOT NULL,
    "runId" TEXT,
    "checkpointId" TEXT,
    "modelName" TEXT,
    "benchmark" TEXT NOT NULL,
    "status" "EvalStatus" NOT NULL DEFAULT 'queued',
    "scores" JSONB NOT NULL DEFAULT '{}',
    "settings" JSONB NOT NULL DEFAULT '{}',
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "EvalResult_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_name_key" ON "User"("name");
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE UNIQUE INDEX "ApiToken_secretHash_key" ON "ApiToken"("secretHash");
CREATE INDEX "ApiToken_userId_idx" ON "ApiToken"("userId");
CREATE UNIQUE INDEX "WorkerToken_secretHash_key" ON "WorkerToken"("secretHash");
CREATE INDEX "WorkerToken_runId_attempt_idx" ON "WorkerToken"("runId", "attempt");
CREATE INDEX "Run_status_priority_queuedAt_idx" ON "Run"("status", "priority" DESC, "queuedAt");
CREATE INDEX "Run_ownerId_createdAt_idx" ON "Run"("ownerId", "createdAt" DESC);
CREATE INDEX "Run_createdAt_idx" ON "Run"("createdAt" DESC);
CREATE INDEX "Run_tags_idx" ON "Run" USING GIN ("tags");
CREATE INDEX "RunEvent_runId_id_idx" ON "RunEvent"("runId", "id");
CREATE UNIQUE INDEX "MetricSeries_runId_key_key" ON "MetricSeries"("runId", "key");
CREATE INDEX "MetricSeries_key_idx" ON "MetricSeries"("key");
CREATE INDEX "MetricPoint_seriesId_wallTime_idx" ON "MetricPoint"("seriesId", "wallTime");
CREATE INDEX "BufferEntry_runId_taskType_stepAdded_idx" ON "BufferEntry"("runId", "taskType", "stepAdded");
CREATE INDEX "BufferEntry_program_idx" ON "BufferEntry" USING GIN ("program" gin_trgm_ops);
CREATE INDEX "Rollout_runId_step_taskType_role_idx" ON "Rollout"("runId", "step", "taskType", "role");
CREATE INDEX "Rollout_runId_taskType_role_reward_idx" ON "Rollout"("runId", "taskType", "role", "reward");
CREATE INDEX "Rollout_response_idx" ON "Rollout" USING GIN ("response" gin_trgm_ops);
CREATE UNIQUE INDEX "Checkpoint_runId_step_key" ON "Checkpoint"("runId", "step");
CREATE UNIQUE INDEX "ResourcePool_name_key" ON "ResourcePool"("name");
CREATE INDEX "Worker_runId_attempt_idx" ON "Worker"("runId", "attempt");
CREATE INDEX "Worker_status_lastHeartbeatAt_idx" ON "Worker"("status", "lastHeartbeatAt");
CREATE INDEX "EvalResult_runId_benchmark_createdAt_idx" ON "EvalResult"("runId", "benchmark", "createdAt");
CREATE INDEX "EvalResult_checkpointId_idx" ON "EvalResult"("checkpointId");

-- AddForeignKey
ALTER TABLE "ApiToken" ADD CONSTRAINT "ApiToken_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "WorkerToken" ADD CONSTRAINT "WorkerToken_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Run" ADD CONSTRAINT "Run_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "Run" ADD CONSTRAINT "Run_parentRunId_fkey" FOREIGN KEY ("parentRunId") REFERENCES "Run"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Run" ADD CONSTRAINT "Run_parentCheckpointId_fkey" FOREIGN KEY ("parentCheckpointId") REFERENCES "Checkpoint"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "RunEvent" ADD CONSTRAINT "RunEvent_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Step" ADD CONSTRAINT "Step_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "MetricSeries" ADD CONSTRAINT "MetricSeries_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "MetricPoint" ADD CONSTRAINT "MetricPoint_seriesId_fkey" FOREIGN KEY ("seriesId") REFERENCES "MetricSeries"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "BufferEntry" ADD CONSTRAINT "BufferEntry_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Rollout" ADD CONSTRAINT "Rollout_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Checkpoint" ADD CONSTRAINT "Checkpoint_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Worker" ADD CONSTRAINT "Worker_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "EvalResult" ADD CONSTRAINT "EvalResult_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "EvalResult" ADD CONSTRAINT "EvalResult_checkpointId_fkey" FOREIGN KEY ("checkpointId") REFERENCES "Checkpoint"("id") ON DELETE SET NULL ON UPDATE CASCADE;
