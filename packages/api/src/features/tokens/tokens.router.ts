import { TRPCError } from "@trpc/server";
import { scopeAtLeast } from "../../auth/auth-service.ts";
import { tokenDto } from "../../dto.ts";
import { authenticatedProcedure, router } from "../../trpc.ts";
import { createTokenInput, listTokensInput, revokeTokenInput } from "./tokens.schema.ts";

// Any token holder manages their own tokens, never with more power than the token they use;
// admins manage everyone's.

export const tokensRouter = router({
  create: authenticatedProcedure.input(createTokenInput).mutation(async ({ ctx, input }) => {
    const { principal, services } = ctx;
    const admin = principal.scope === "admin";
    if (input.user !== undefined && input.user !== principal.userName && !admin) {
      throw new TRPCError({ code: "FORBIDDEN", message: "user: only an admin may issue tokens to other users" });
    }
    const tooStrong = input.scopes.filter((s) => !scopeAtLeast(principal.scope, s));
    if (tooStrong.length > 0) throw new TRPCError({ code: "FORBIDDEN", message: `scopes: your token (${principal.scope}) cannot grant ${tooStrong.join(", ")}` });
    const userId = input.user === undefined || input.user === principal.userName ? principal.userId : (await services.auth.ensureUser(input.user)).id;
    const expiresAt = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null;
    const created = await services.auth.createApiToken({ userId, name: input.name, scopes: input.scopes, expiresAt });
    const user = await services.db.prisma.user.findUnique({ where: { id: userId } });
    return { token: created.token, record: tokenDto({ ...created.record, user }) };
  }),
  list: authenticatedProcedure.input(listTokensInput).query(async ({ ctx, input }) => {
    if (input.all && ctx.principal.scope !== "admin") throw new TRPCError({ code: "FORBIDDEN", message: "all: only an admin may list every user's tokens" });
    const rows = await ctx.services.db.prisma.apiToken.findMany({
      where: { ...(input.all ? {} : { userId: ctx.principal.userId }), ...(input.includeRevoked ? {} : { revokedAt: null }) },
      include: { user: true },
      orderBy: { createdAt: "desc" },
    });
    return { items: rows.map(tokenDto) };
  }),
  revoke: authenticatedProcedure.input(revokeTokenInput).mutation(async ({ ctx, input }) => {
    const { prisma } = ctx.services.db;
    const existing = await prisma.apiToken.findUnique({ where: { id: input.id } });
    if (!existing) throw new TRPCError({ code: "NOT_FOUND", message: `no token with id ${input.id}` });
    if (existing.userId !== ctx.principal.userId && ctx.principal.scope !== "admin") {
      throw new TRPCError({ code: "FORBIDDEN", message: `token ${input.id} belongs to another user; only an admin may revoke it` });
    }
    const revoked = await ctx.services.auth.revokeApiToken(input.id);
    const user = await prisma.user.findUnique({ where: { id: existing.userId } });
    return tokenDto({ ...revoked!, user });
  }),
  /** Who am I: the caller's user and token. */
  whoami: authenticatedProcedure.query(({ ctx }) => ({
    userId: ctx.principal.userId,
    userName: ctx.principal.userName,
    tokenId: ctx.principal.tokenId,
    tokenName: ctx.principal.tokenName,
    scope: ctx.principal.scope,
    via: ctx.principal.via,
  })),
});
