-- CreateEnum
CREATE TYPE "EvalOrigin" AS ENUM ('user', 'periodic');

-- AlterTable
ALTER TABLE "EvalResult" ADD COLUMN     "createdById" TEXT,
ADD COLUMN     "jobId" TEXT,
ADD COLUMN     "origin" "EvalOrigin" NOT NULL DEFAULT 'user',
ADD COLUMN     "poolName" TEXT,
ADD COLUMN     "priority" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "problemsDone" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "problemsTotal" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "startedAt" TIMESTAMP(3),
ADD COLUMN     "step" INTEGER;

-- CreateTable
CREATE TABLE "EvalProblemResult" (
    "evalId" TEXT NOT NULL,
    "problemId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "correct" INTEGER NOT NULL,
    "n" INTEGER NOT NULL,
    "solved" BOOLEAN NOT NULL,
    "prompt" TEXT NOT NULL,
    "samples" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EvalProblemResult_pkey" PRIMARY KEY ("evalId","problemId")
);

-- CreateIndex
CREATE INDEX "EvalProblemResult_evalId_index_idx" ON "EvalProblemResult"("evalId", "index");

-- CreateIndex
CREATE INDEX "EvalResult_jobId_idx" ON "EvalResult"("jobId");

-- CreateIndex
CREATE INDEX "EvalResult_status_priority_createdAt_idx" ON "EvalResult"("status", "priority" DESC, "createdAt");

-- CreateIndex
CREATE INDEX "EvalResult_modelName_benchmark_createdAt_idx" ON "EvalResult"("modelName", "benchmark", "createdAt");

-- AddForeignKey
ALTER TABLE "EvalResult" ADD CONSTRAINT "EvalResult_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EvalProblemResult" ADD CONSTRAINT "EvalProblemResult_evalId_fkey" FOREIGN KEY ("evalId") REFERENCES "EvalResult"("id") ON DELETE CASCADE ON UPDATE CASCADE;
