import type { ReactNode } from "react";
import "uplot/dist/uPlot.min.css";
import "./globals.css";
import { Providers } from "./providers.tsx";
import { TopBar } from "../components/TopBar.tsx";

export const metadata = { title: "AZR Platform", description: "Absolute Zero self-play RL: launch, watch, inspect and compare runs" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>
          <TopBar />
          <main>{children}</main>
        </Providers>
      </body>
    </html>
  );
}
