// Bundles src/ into dist/ (committed; the Rust binary embeds it). The output
// is deterministic — fixed names, no source maps, no timestamps — so CI can
// rebuild it and compare (check-bundle.sh).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");
await build({
  entryPoints: { app: "src/main.ts" },
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "none",
  charset: "utf8",
  outdir: "dist",
  logLevel: "warning",
});
copyFileSync("index.html", "dist/index.html");
