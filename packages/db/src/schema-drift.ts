import { getDMMF } from "@prisma/get-dmmf";
import { MIGRATIONS_TABLE } from "./migrations.ts";
import type { SqlSession } from "./sql.ts";

// Compares what schema.prisma says the database should look like with what the migrations
// actually built. Prisma's own `migrate diff` needs a native engine that cannot be installed
// here, so the expected shape is derived from Prisma's DMMF using Prisma Migrate's conventions
// (types, default expressions, constraint and index names) and compared with the catalogue.

export interface ColumnShape {
  type: string;
  nullable: boolean;
  default: string | null;
}
export interface IndexShape {
  unique: boolean;
  primary: boolean;
  method: string;
  columns: string[];
  descending: boolean[];
  /** non-default operator classes only, "" elsewhere */
  opclasses: string[];
}
export interface ForeignKeyShape {
  table: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
}
export interface SchemaShape {
  enums: Record<string, string[]>;
  tables: Record<string, Record<string, ColumnShape>>;
  indexes: Record<string, IndexShape & { table: string }>;
  foreignKeys: Record<string, ForeignKeyShape>;
}

const SCALAR_TYPES: Record<string, string> = {
  String: "text",
  Int: "integer",
  BigInt: "bigint",
  Float: "double precision",
  Boolean: "boolean",
  DateTime: "timestamp(3) without time zone",
  Json: "jsonb",
  Decimal: "numeric(65,30)",
  Bytes: "bytea",
};

const REFERENTIAL_ACTIONS: Record<string, string> = {
  Cascade: "CASCADE",
  Restrict: "RESTRICT",
  NoAction: "NO ACTION",
  SetNull: "SET NULL",
  SetDefault: "SET DEFAULT",
};

type Dmmf = Exclude<ReturnType<typeof getDMMF>, { reason: string }>;
type DmmfField = Dmmf["datamodel"]["models"][number]["fields"][number];

export function expectedSchemaFromPrisma(schemaText: string): SchemaShape {
  const result = getDMMF({ datamodel: schemaText });
  if ("reason" in result) throw new Error(`schema.prisma does not parse: ${result.reason} ${result.error.message}`);
  const dmmf: Dmmf = result;
  const shape: SchemaShape = { enums: {}, tables: {}, indexes: {}, foreignKeys: {} };
  for (const e of dmmf.datamodel.enums) shape.enums[e.dbName ?? e.name] = e.values.map((v) => v.dbName ?? v.name);
  const tableOf = new Map(dmmf.datamodel.models.map((m) => [m.name, m.dbName ?? m.name]));
  const columnOf = (model: string, field: string) => {
    const f = dmmf.datamodel.models.find((m) => m.name === model)?.fields.find((x) => x.name === field);
    return f?.dbName ?? field;
  };

  for (const model of dmmf.datamodel.models) {
    if (model.fields.some((f) => f.nativeType)) {
      throw new Error(`${model.name}: native type attributes (@db.*) are not handled by the drift check yet; extend SCALAR_TYPES handling`);
    }
    const table = model.dbName ?? model.name;
    const columns: Record<string, ColumnShape> = {};
    for (const f of model.fields) {
      if (f.kind !== "scalar" && f.kind !== "enum") continue;
      const column = f.dbName ?? f.name;
      const base = f.kind === "enum" ? f.type : SCALAR_TYPES[f.type];
      if (!base) throw new Error(`${model.name}.${f.name}: unsupported Prisma type ${f.type}`);
      columns[column] = {
        type: f.isList ? `${base}[]` : base,
        nullable: f.isList || !f.isRequired,
        default: expectedDefault(table, column, f, base),
      };
    }
    shape.tables[table] = columns;

    for (const field of model.fields) {
      if (field.kind !== "object" || !field.relationFromFields?.length) continue;
      const from = field.relationFromFields.map((c) => columnOf(model.name, c));
      const allRequired = field.relationFromFields.every((c) => model.fields.find((x) => x.name === c)?.isRequired);
      const onDelete = field.relationOnDelete ?? (allRequired ? "Restrict" : "SetNull");
      const onUpdate = (field as DmmfField & { relationOnUpdate?: string }).relationOnUpdate ?? "Cascade";
      shape.foreignKeys[`${table}_${from.join("_")}_fkey`] = {
        table,
        columns: from,
        refTable: tableOf.get(field.type) ?? field.type,
        refColumns: (field.relationToFields ?? []).map((c) => columnOf(field.type, c)),
        onDelete: REFERENTIAL_ACTIONS[onDelete] ?? onDelete,
        onUpdate: REFERENTIAL_ACTIONS[onUpdate] ?? onUpdate,
      };
    }
  }

  for (const idx of dmmf.datamodel.indexes) {
    const table = tableOf.get(idx.model) ?? idx.model;
    const columns = idx.fields.map((f) => columnOf(idx.model, f.name));
    const suffix = idx.type === "id" ? "pkey" : idx.type === "unique" ? "key" : "idx";
    const name = idx.dbName ?? (idx.type === "id" ? `${table}_pkey` : `${table}_${columns.join("_")}_${suffix}`);
    shape.indexes[name] = {
      table,
      unique: idx.type !== "normal",
      primary: idx.type === "id",
      method: (idx.algorithm ?? "BTree").toLowerCase(),
      columns,
      descending: idx.fields.map((f) => f.sortOrder === "desc"),
      opclasses: idx.fields.map((f) => (typeof f.operatorClass === "string" ? f.operatorClass.toLowerCase() : "")),
    };
  }
  return shape;
}

function expectedDefault(table: string, column: string, f: DmmfField, baseType: string): string | null {
  const d = f.default as unknown;
  if (d === undefined || f.isUpdatedAt) return null;
  if (typeof d === "object" && d !== null && !Array.isArray(d) && "name" in d) {
    const fn = (d as { name: string }).name;
    if (fn === "now") return "CURRENT_TIMESTAMP";
    if (fn === "autoincrement") return `nextval('"${table}_${column}_seq"'::regclass)`;
    return null; // uuid(), cuid(), nanoid(): generated by the client, not the database
  }
  const typeCast = f.kind === "enum" ? `"${baseType}"` : baseType;
  if (Array.isArray(d)) {
    if (d.length) throw new Error(`${table}.${column}: non-empty list defaults are not handled by the drift check`);
    return `ARRAY[]::${typeCast}[]`;
  }
  if (typeof d === "boolean") return String(d);
  if (typeof d === "number") return d < 0 ? `(${d})` : String(d);
  if (typeof d === "string") {
    const quoted = `'${d.replace(/'/g, "''")}'`;
    if (f.kind === "enum") return `${quoted}::${typeCast}`;
    if (f.type === "Json") return `${quoted}::jsonb`;
    if (f.type === "String") return `${quoted}::text`;
    return quoted;
  }
  throw new Error(`${table}.${column}: unsupported default ${JSON.stringify(d)}`);
}

const ACTION_CODES: Record<string, string> = { a: "NO ACTION", r: "RESTRICT", c: "CASCADE", n: "SET NULL", d: "SET DEFAULT" };

export async function introspectSchema(sql: SqlSession): Promise<SchemaShape> {
  const shape: SchemaShape = { enums: {}, tables: {}, indexes: {}, foreignKeys: {} };
  const enums = await sql.query<{ name: string; values: string[] }>(
    `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' GROUP BY t.typname`,
  );
  for (const e of enums) shape.enums[e.name] = e.values;

  const columns = await sql.query<{ table: string; column: string; type: string; notnull: boolean; default: string | null }>(
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS default
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> $1
      ORDER BY c.relname, a.attnum`,
    [MIGRATIONS_TABLE],
  );
  for (const c of columns) {
    const table = (shape.tables[c.table] ??= {});
    table[c.column] = { type: c.type.replace(/"/g, ""), nullable: !c.notnull, default: c.default };
  }

  const indexes = await sql.query<{
    name: string;
    table: string;
    unique: boolean;
    primary: boolean;
    method: string;
    columns: string[];
    options: number[];
    opclasses: string[];
  }>(
    `SELECT ic.relname AS name, tc.relname AS table, i.indisunique AS unique, i.indisprimary AS primary, am.amname AS method,
            ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
            ARRAY(SELECT o::int FROM unnest(i.indoption) o) AS options,
            ARRAY(SELECT CASE WHEN oc.opcdefault THEN '' ELSE oc.opcname::text END
                    FROM unnest(i.indclass) WITH ORDINALITY k(oid, ord) JOIN pg_opclass oc ON oc.oid = k.oid ORDER BY k.ord) AS opclasses
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class tc ON tc.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = tc.relnamespace JOIN pg_am am ON am.oid = ic.relam
      WHERE n.nspname = 'public' AND tc.relname <> $1`,
    [MIGRATIONS_TABLE],
  );
  for (const i of indexes) {
    shape.indexes[i.name] = {
      table: i.table,
      unique: i.unique,
      primary: i.primary,
      method: i.method,
      columns: i.columns,
      descending: i.options.map((o) => (o & 1) === 1),
      opclasses: i.opclasses,
    };
  }

  const fks = await sql.query<{
    name: string;
    table: string;
    columns: string[];
    ref_table: string;
    ref_columns: string[];
    del: string;
    upd: string;
  }>(
    `SELECT con.conname AS name, tc.relname AS table, rc.relname AS ref_table,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ref_columns,
            con.confdeltype::text AS del, con.confupdtype::text AS upd
       FROM pg_constraint con JOIN pg_class tc ON tc.oid = con.conrelid JOIN pg_class rc ON rc.oid = con.confrelid
       JOIN pg_namespace n ON n.oid = tc.relnamespace
      WHERE con.contype = 'f' AND n.nspname = 'public'`,
  );
  for (const f of fks) {
    shape.foreignKeys[f.name] = {
      table: f.table,
      columns: f.columns,
      refTable: f.ref_table,
      refColumns: f.ref_columns,
      onDelete: ACTION_CODES[f.del] ?? f.del,
      onUpdate: ACTION_CODES[f.upd] ?? f.upd,
    };
  }
  return shape;
}

/** Every difference between the two shapes, as sentences naming the object; empty when equal. */
export function diffSchemas(expected: SchemaShape, actual: SchemaShape): string[] {
  const out: string[] = [];
  const keys = (a: object, b: object) => [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const show = (v: unknown) => JSON.stringify(v);

  for (const name of keys(expected.enums, actual.enums)) {
    const e = expected.enums[name];
    const a = actual.enums[name];
    if (!a) out.push(`enum ${name}: in schema.prisma but not in the migrated database`);
    else if (!e) out.push(`enum ${name}: in the migrated database but not in schema.prisma`);
    else if (show(e) !== show(a)) out.push(`enum ${name}: schema.prisma has ${show(e)}, database has ${show(a)}`);
  }
  for (const table of keys(expected.tables, actual.tables)) {
    const e = expected.tables[table];
    const a = actual.tables[table];
    if (!a) {
      out.push(`table ${table}: in schema.prisma but not in the migrated database`);
      continue;
    }
    if (!e) {
      out.push(`table ${table}: in the migrated database but not in schema.prisma`);
      continue;
    }
    for (const column of keys(e, a)) {
      const ec = e[column];
      const ac = a[column];
      if (!ac) out.push(`column ${table}.${column}: in schema.prisma (${ec?.type}) but not in the migrated database`);
      else if (!ec) out.push(`column ${table}.${column}: in the migrated database (${ac.type}) but not in schema.prisma`);
      else {
        if (ec.type !== ac.type) out.push(`column ${table}.${column}: type ${ec.type} in schema.prisma, ${ac.type} in the database`);
        if (ec.nullable !== ac.nullable)
          out.push(`column ${table}.${column}: ${ec.nullable ? "nullable" : "NOT NULL"} in schema.prisma, ${ac.nullable ? "nullable" : "NOT NULL"} in the database`);
        if (ec.default !== ac.default) out.push(`column ${table}.${column}: default ${ec.default ?? "none"} in schema.prisma, ${ac.default ?? "none"} in the database`);
      }
    }
  }
  for (const name of keys(expected.indexes, actual.indexes)) {
    const e = expected.indexes[name];
    const a = actual.indexes[name];
    if (!a) out.push(`index ${name} on ${e?.table}(${e?.columns.join(", ")}): in schema.prisma but not in the migrated database`);
    else if (!e) out.push(`index ${name} on ${a.table}(${a.columns.join(", ")}): in the migrated database but not in schema.prisma`);
    else if (show(e) !== show(a)) out.push(`index ${name}: schema.prisma expects ${show(e)}, database has ${show(a)}`);
  }
  for (const name of keys(expected.foreignKeys, actual.foreignKeys)) {
    const e = expected.foreignKeys[name];
    const a = actual.foreignKeys[name];
    if (!a) out.push(`foreign key ${name}: in schema.prisma but not in the migrated database`);
    else if (!e) out.push(`foreign key ${name}: in the migrated database but not in schema.prisma`);
    else if (show(e) !== show(a)) out.push(`foreign key ${name}: schema.prisma expects ${show(e)}, database has ${show(a)}`);
  }
  return out;
}
