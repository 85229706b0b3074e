import { inflateSync } from "node:zlib";

// LiveCodeBench's code_generation_lite files store private_test_cases either as a JSON string or
// as base64(zlib(pickle.dumps(json_string))). Unpickling runs arbitrary code, so this never
// unpickles: it reads the one pickle shape a pickled str has (PROTO, optional FRAME, one
// (SHORT_)BINUNICODE(8) string, optional MEMOIZE/BINPUT, STOP) as data, and rejects anything else
// with a message saying so. No object is ever constructed from the pickle.

export class UnsafePickleError extends Error {
  override name = "UnsafePickleError";
}

/** Largest inflated payload accepted (a guard against zlib bombs). */
const MAX_INFLATED = 1 << 30;

const OP = {
  PROTO: 0x80,
  FRAME: 0x95,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE: 0x58, // 'X'
  BINUNICODE8: 0x8d,
  MEMOIZE: 0x94,
  BINPUT: 0x71, // 'q'
  STOP: 0x2e, // '.'
} as const;

/** The str inside a pickle that holds exactly one str; throws UnsafePickleError otherwise. */
export function readPickledString(data: Buffer): string {
  let i = 0;
  const need = (n: number) => {
    if (i + n > data.length) throw new UnsafePickleError("truncated pickle");
  };
  let text: string | undefined;
  while (i < data.length) {
    const op = data[i++]!;
    switch (op) {
      case OP.PROTO:
        need(1);
        i += 1;
        break;
      case OP.FRAME:
        need(8);
        i += 8;
        break;
      case OP.MEMOIZE:
        break;
      case OP.BINPUT:
        need(1);
        i += 1;
        break;
      case OP.SHORT_BINUNICODE:
      case OP.BINUNICODE:
      case OP.BINUNICODE8: {
        if (text !== undefined) throw new UnsafePickleError("pickle holds more than one value");
        let len: number;
        if (op === OP.SHORT_BINUNICODE) {
          need(1);
          len = data[i]!;
          i += 1;
        } else if (op === OP.BINUNICODE) {
          need(4);
          len = data.readUInt32LE(i);
          i += 4;
        } else {
          need(8);
          const big = data.readBigUInt64LE(i);
          if (big > BigInt(MAX_INFLATED)) throw new UnsafePickleError("pickled string too large");
          len = Number(big);
          i += 8;
        }
        need(len);
        text = data.toString("utf8", i, i + len);
        i += len;
        break;
      }
      case OP.STOP:
        if (text === undefined) throw new UnsafePickleError("pickle holds no string");
        if (i !== data.length) throw new UnsafePickleError("data after the pickle's STOP");
        return text;
      default:
        throw new UnsafePickleError(
          `pickle opcode 0x${op.toString(16)} is not part of a pickled string; refusing to unpickle it (only pickled JSON strings are read, as data)`,
        );
    }
  }
  throw new UnsafePickleError("pickle has no STOP");
}

/** The JSON text of a private_test_cases field: as is when it is JSON, else decoded from
 * base64 → zlib → pickled str. */
export function privateTestsJson(field: string): string {
  const trimmed = field.trimStart();
  if (trimmed.startsWith("[") || trimmed === "") return field;
  if (!/^[A-Za-z0-9+/=\s]+$/.test(field)) throw new UnsafePickleError("neither JSON nor base64");
  const compressed = Buffer.from(field, "base64");
  let raw: Buffer;
  try {
    raw = inflateSync(compressed, { maxOutputLength: MAX_INFLATED });
  } catch (e) {
    throw new UnsafePickleError(`base64 payload is not zlib data: ${(e as Error).message}`);
  }
  return readPickledString(raw);
}
