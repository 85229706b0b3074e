"use client";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { readSession, signOut, type SessionInfo } from "../lib/session.ts";
import { resetClient } from "../lib/api.ts";
import { HoverLink } from "./bits.tsx";

const LINKS = [
  { href: "/", label: "Runs" },
  { href: "/launch", label: "Launch" },
  { href: "/compare", label: "Compare" },
  { href: "/pools", label: "Pools" },
  { href: "/models", label: "Models" },
  { href: "/tokens", label: "Tokens" },
];

export function TopBar() {
  const pathname = usePathname();
  const router = useRouter();
  const [session, setSession] = useState<SessionInfo | null>(null);
  useEffect(() => setSession(readSession()), [pathname]);
  if (pathname === "/signin") return null;
  return (
    <header className="topbar">
      <HoverLink href="/" className="brand">AZR Platform</HoverLink>
      <nav>
        {LINKS.map((l) => (
          <HoverLink key={l.href} href={l.href} className={(l.href === "/" ? pathname === "/" || pathname.startsWith("/runs") : pathname.startsWith(l.href)) ? "active" : ""}>
            {l.label}
          </HoverLink>
        ))}
      </nav>
      <div className="who">
        {session && <span data-testid="whoami">{session.user} · {session.scope}</span>}
        <button
          onClick={async () => {
            await signOut();
            resetClient();
            router.replace("/signin");
          }}
        >
          Sign out
        </button>
      </div>
    </header>
  );
}
