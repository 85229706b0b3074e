import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "./client.ts";
import { diffSchemas, expectedSchemaFromPrisma, introspectSchema, type SchemaShape } from "./schema-drift.ts";
import { createTestDatabase, testBackends, type TestDatabase } from "./testing.ts";

const schemaPath = fileURLToPath(new URL("../../../prisma/schema.prisma", import.meta.url));
const schemaText = readFileSync(schemaPath, "utf8");

describe.each(testBackends)("migrations match schema.prisma (%s)", (backend) => {
  let tdb: TestDatabase;
  let db: Database;
  let actual: SchemaShape;
  beforeAll(async () => {
    tdb = await createTestDatabase(backend);
    db = await tdb.open();
    actual = await introspectSchema(db.sql);
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it("every model, column, type, nullability, default, index and foreign key agrees", () => {
    expect(diffSchemas(expectedSchemaFromPrisma(schemaText), actual)).toEqual([]);
  });

  it("covers the whole schema (the comparison is not vacuous)", () => {
    const expected = expectedSchemaFromPrisma(schemaText);
    expect(Object.keys(expected.tables).length).toBeGreaterThanOrEqual(14);
    expect(Object.keys(actual.indexes).length).toBe(Object.keys(expected.indexes).length);
    expect(Object.keys(actual.foreignKeys).length).toBe(Object.keys(expected.foreignKeys).length);
  });

  it("reports a column added to schema.prisma without a migration", () => {
    const edited = schemaText.replace(/(model Run \{\n)/, '$1  extraColumn String @default("x")\n');
    expect(diffSchemas(expectedSchemaFromPrisma(edited), actual)).toEqual([
      'column Run.extraColumn: in schema.prisma (text) but not in the migrated database',
    ]);
  });

  it("reports a changed nullability, default, index and referential action", () => {
    const edited = schemaText
      .replace("  notes              String        @default(\"\")", "  notes              String?")
      .replace("  @@index([seriesId, wallTime])", "  @@index([wallTime])")
      .replace(
        'owner              User          @relation(fields: [ownerId], references: [id], onDelete: Restrict)',
        'owner              User          @relation(fields: [ownerId], references: [id], onDelete: Cascade)',
      );
    const diffs = diffSchemas(expectedSchemaFromPrisma(edited), actual);
    expect(diffs).toContain("column Run.notes: nullable in schema.prisma, NOT NULL in the database");
    expect(diffs).toContain("column Run.notes: default none in schema.prisma, ''::text in the database");
    expect(diffs).toContain('index MetricPoint_wallTime_idx on MetricPoint(wallTime): in schema.prisma but not in the migrated database');
    expect(diffs).toContain(
      'index MetricPoint_seriesId_wallTime_idx on MetricPoint(seriesId, wallTime): in the migrated database but not in schema.prisma',
    );
    expect(diffs.some((d) => d.startsWith("foreign key Run_ownerId_fkey:") && d.includes('"onDelete":"CASCADE"'))).toBe(true);
  });
});
