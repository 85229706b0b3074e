import type { Rng } from "@azr/azr";

// Program templates for the demo corpus: small deterministic Python functions over strings,
// lists and ints, each with a plain-language description (used as the proposer's plan, the
// solver's reasoning and the induction message) and an input generator. Constants and inputs are
// drawn from the corpus RNG, so a seed fixes every program and input. Every program is a single
// `def f(...)` (the reference's one-def rule) and its inputs are Python literals.

export interface ProgramInstance {
  family: string;
  snippet: string;
  /** What f does, e.g. "reverse the string". */
  description: string;
  /** One argument list for f, as a Python call-argument list of literals. */
  input(rng: Rng): string;
}

interface Family {
  name: string;
  make(rng: Rng): Omit<ProgramInstance, "family">;
}

const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const SOFT = "aeioulnrst";

export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)]!;
}

function word(rng: Rng, min = 3, max = 6, alphabet = LETTERS): string {
  let s = "";
  const n = randInt(rng, min, max);
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

const q = (s: string) => `'${s}'`;
const sentence = (rng: Rng, min = 2, max = 3) => Array.from({ length: randInt(rng, min, max) }, () => word(rng, 2, 5)).join(" ");
const ints = (rng: Rng, min = 3, max = 5, lo = 0, hi = 9) => `[${Array.from({ length: randInt(rng, min, max) }, () => randInt(rng, lo, hi)).join(", ")}]`;

const one = (name: string, args: string, body: string, description: string, input: (r: Rng) => string): Family => ({
  name,
  make: () => ({ snippet: `def f(${args}):\n    return ${body}`, description, input }),
});

const FAMILIES: Family[] = [
  one("reverse", "s", "s[::-1]", "reverse the string", (r) => q(word(r, 3, 5))),
  one("count-vowels", "s", "sum(1 for c in s if c in 'aeiou')", "count the vowels in the string", (r) => q(word(r, 4, 8))),
  {
    name: "sum-plus",
    make: (rng) => {
      const k = randInt(rng, 1, 9);
      return { snippet: `def f(xs):\n    return sum(xs) + ${k}`, description: `add ${k} to the sum of the list`, input: (r) => ints(r) };
    },
  },
  one("evens", "xs", "[x for x in xs if x % 2 == 0]", "keep the even numbers of the list", (r) => ints(r, 3, 4)),
  one("running-max", "xs", "[max(xs[:i + 1]) for i in range(len(xs))]", "list the running maximum of the list", (r) => ints(r)),
  {
    name: "shift",
    make: (rng) => {
      const k = randInt(rng, 1, 5);
      return {
        snippet: `def f(s):\n    return ''.join(chr((ord(c) - 97 + ${k}) % 26 + 97) for c in s)`,
        description: `shift each letter ${k} places along the alphabet`,
        input: (r) => q(word(r)),
      };
    },
  },
  one("char-count", "s", "{c: s.count(c) for c in s}", "count how often each character occurs", (r) => q(word(r, 3, 6, SOFT))),
  {
    name: "affine",
    make: (rng) => {
      const k = randInt(rng, 2, 9);
      return { snippet: `def f(a, b):\n    return a * ${k} + b`, description: `multiply the first number by ${k} and add the second`, input: (r) => `${randInt(r, 0, 20)}, ${randInt(r, 0, 20)}` };
    },
  },
  one("squares", "xs", "[x * x for x in xs]", "square every number of the list", (r) => ints(r, 2, 4)),
  one("digit-sum", "n", "sum(int(d) for d in str(n))", "add up the digits of the number", (r) => String(randInt(r, 10, 999))),
  one("reverse-words", "s", "' '.join(w[::-1] for w in s.split())", "reverse every word of the sentence", (r) => q(sentence(r))),
  one("diffs", "xs", "[xs[i + 1] - xs[i] for i in range(len(xs) - 1)]", "list the differences of neighbouring numbers", (r) => ints(r)),
  {
    name: "rotate",
    make: (rng) => {
      const k = randInt(rng, 1, 3);
      return { snippet: `def f(xs):\n    return xs[${k}:] + xs[:${k}]`, description: `rotate the list left by ${k}`, input: (r) => ints(r, 4, 6) };
    },
  },
  one("unique-sorted", "xs", "sorted(set(xs))", "sort the distinct numbers of the list", (r) => ints(r, 4, 7, 0, 5)),
  one("word-lengths", "s", "[len(w) for w in s.split()]", "list the length of each word", (r) => q(sentence(r))),
  one("triangular", "n", "n * (n + 1) // 2", "add up the numbers from 1 to n", (r) => String(randInt(r, 1, 50))),
  one("count-above", "xs, t", "len([x for x in xs if x > t])", "count the numbers above the threshold", (r) => `${ints(r)}, ${randInt(r, 0, 9)}`),
  one("interleave", "a, b", "''.join(x + y for x, y in zip(a, b))", "interleave the letters of the two strings", (r) => `${q(word(r))}, ${q(word(r))}`),
  one("prefix-sums", "xs", "[sum(xs[:i + 1]) for i in range(len(xs))]", "list the running totals of the list", (r) => ints(r)),
  {
    name: "replace",
    make: (rng) => {
      const a = pick(rng, [..."aeiou"]);
      const b = pick(rng, [..."xyz"]);
      return { snippet: `def f(s):\n    return s.replace('${a}', '${b}')`, description: `replace every ${a} with ${b}`, input: (r) => q(word(r, 4, 8)) };
    },
  },
  one("argmax", "xs", "xs.index(max(xs))", "find the index of the largest number", (r) => ints(r)),
  {
    name: "count-char",
    make: (rng) => {
      const c = pick(rng, [..."aeiost"]);
      return { snippet: `def f(s):\n    return s.count('${c}')`, description: `count the letter ${c} in the string`, input: (r) => q(word(r, 4, 9, SOFT)) };
    },
  },
  {
    name: "sort-mod",
    make: (rng) => {
      const k = randInt(rng, 2, 5);
      return { snippet: `def f(xs):\n    return sorted(xs, key=lambda x: (x % ${k}, x))`, description: `sort the numbers by their remainder mod ${k}`, input: (r) => ints(r) };
    },
  },
  one("upper", "s", "s.upper()", "write the string in capitals", (r) => q(word(r, 3, 5))),
  {
    name: "gcd",
    make: () => ({ snippet: "def f(a, b):\n    while b:\n        a, b = b, a % b\n    return a", description: "find the greatest common divisor", input: (r) => `${randInt(r, 2, 60)}, ${randInt(r, 2, 60)}` }),
  },
  one("palindrome", "s", "s == s[::-1]", "check whether the string is a palindrome", (r) => {
    const w = word(r, 2, 4);
    return q(r.int(2) === 0 ? w + [...w].reverse().join("") : w + word(r, 1, 2));
  }),
  one("transpose", "m", "[list(r) for r in zip(*m)]", "transpose the matrix", (r) => {
    const rows = randInt(r, 2, 3);
    const cols = randInt(r, 2, 3);
    return `[${Array.from({ length: rows }, () => `[${Array.from({ length: cols }, () => randInt(r, 0, 9)).join(", ")}]`).join(", ")}]`;
  }),
  {
    name: "binary",
    make: (rng) => {
      const k = randInt(rng, 1, 3);
      return { snippet: `def f(n):\n    return bin(n * ${k})[2:]`, description: `write ${k} times n in binary`, input: (r) => String(randInt(r, 1, 64)) };
    },
  },
  one("starts-with", "s, c", "sum(1 for w in s.split() if w.startswith(c))", "count the words that start with the letter", (r) => `${q(sentence(r, 3, 5))}, ${q(pick(r, [..."abcdelmnst"]))}`),
  one("max-min", "xs", "max(xs) - min(xs)", "give the range of the list, largest minus smallest", (r) => ints(r, 2, 4)),
];

export const FAMILY_NAMES: readonly string[] = FAMILIES.map((f) => f.name);

/** The families the demo policy is trained on: short, constant-free programs, so the tiny model
 * can learn to write them byte for byte within a build of minutes (a build over all thirty
 * families in 30 minutes on the loaded 2-core machine wrote no well-formed proposal). */
export const DEMO_CORE_FAMILIES: readonly string[] = ["reverse", "squares", "evens", "max-min", "upper", "triangular", "digit-sum", "unique-sorted"];

/** One program of a random family (of `families`, default all), constants drawn from `rng`. */
export function randomProgram(rng: Rng, families: readonly string[] = FAMILY_NAMES): ProgramInstance {
  const pool = FAMILIES.filter((f) => families.includes(f.name));
  if (pool.length === 0) throw new Error(`no program family among ${families.join(", ")}`);
  const family = pick(rng, pool);
  return { family: family.name, ...family.make(rng) };
}

/** The seed triplet's identity program (SEED_TRIPLET in @azr/azr), whose induction proposals
 * take inputs of any kind. */
export const IDENTITY: ProgramInstance = {
  family: "identity",
  snippet: "def f(a):\n    return a",
  description: "return the input unchanged",
  input: (r) => {
    switch (r.int(3)) {
      case 0:
        return q(word(r, 3, 5));
      case 1:
        return String(randInt(r, 0, 99));
      default:
        return ints(r, 2, 4);
    }
  },
};
