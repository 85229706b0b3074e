import { z } from "zod";
import { SCOPES } from "../../auth/auth-service.ts";
import { uuid } from "../common.ts";

export const createTokenInput = z
  .object({
    name: z.string().trim().min(1, "must not be empty").max(100),
    scopes: z.array(z.enum(SCOPES)).min(1, "give at least one scope").max(3),
    /** Days until the token stops working; none: until revoked. */
    expiresInDays: z.number().int().min(1).max(3650).optional(),
    /** The user to issue it to (admin only); default: yourself. */
    user: z.string().trim().min(1).max(100).regex(/^[\w.@-]+$/, "user names use letters, digits and . _ @ - only").optional(),
  })
  .strict();

export const listTokensInput = z.object({ all: z.boolean().default(false), includeRevoked: z.boolean().default(false) }).strict().default({ all: false, includeRevoked: false });

export const revokeTokenInput = z.object({ id: uuid("token") }).strict();
