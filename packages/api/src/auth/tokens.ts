import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

// Token formats. Every secret the platform hands out starts with a kind-specific prefix, so a
// leaked token is recognisable (secret scanners, logs) and a token of one kind presented where
// another is expected is refused by its shape before any lookup.
//   azr_pat_<43 base64url chars>   API token (personal access token), 256 bits of entropy
//   azr_wkr_<43 base64url chars>   worker token, bound to one run attempt
export const API_TOKEN_PREFIX = "azr_pat_";
export const WORKER_TOKEN_PREFIX = "azr_wkr_";
const SECRET_BYTES = 32;
/** What lists and logs may show: the kind prefix and the first 4 characters of the secret. */
export const DISPLAY_PREFIX_LENGTH = API_TOKEN_PREFIX.length + 4;
const TOKEN_SHAPE = /^azr_(pat|wkr)_[A-Za-z0-9_-]{43}$/;

export type TokenKind = "api" | "worker";

export function generateToken(kind: TokenKind): string {
  return (kind === "api" ? API_TOKEN_PREFIX : WORKER_TOKEN_PREFIX) + randomBytes(SECRET_BYTES).toString("base64url");
}

/** The kind a string claims to be by its shape, or undefined for anything else. */
export function tokenKind(token: string): TokenKind | undefined {
  const m = TOKEN_SHAPE.exec(token);
  if (!m) return undefined;
  return m[1] === "pat" ? "api" : "worker";
}

/** SHA-256 is enough for 256-bit random secrets (no dictionary to attack, unlike passwords), and it
 * lets the lookup be an indexed equality on the hash. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function displayPrefix(token: string): string {
  return token.slice(0, DISPLAY_PREFIX_LENGTH);
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}
