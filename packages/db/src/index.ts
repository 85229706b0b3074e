export { openDatabase, type Database, type OpenDatabaseOptions } from "./client.ts";
export { resolveDatabaseTarget, parsePostgresUrl, describeTarget, type DatabaseTarget } from "./config.ts";
export { DatabaseSetupError } from "./errors.ts";
export { loadMigrations, migrate, pendingMigrations, defaultMigrationsDir, MIGRATIONS_TABLE, type Migration, type MigrationReport } from "./migrations.ts";
export type { SqlSession } from "./sql.ts";
export { PrismaClient, Prisma } from "./generated/prisma/client.ts";
export type { User, ApiToken, WorkerToken, Run, RunEvent, Step, MetricSeries, MetricPoint, BufferEntry, Rollout, Checkpoint, ResourcePool, Worker, EvalResult, EvalProblemResult } from "./generated/prisma/client.ts";
export * from "./generated/prisma/enums.ts";
export { expectedSchemaFromPrisma, introspectSchema, diffSchemas, type SchemaShape } from "./schema-drift.ts";
