import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { routeTree } from "./router";

type Node = { options?: { path?: string }; children?: Record<string, Node> | Node[] };

function paths(node: Node, base = ""): string[] {
  const own = node.options?.path ? `${base}/${node.options.path.replace(/^\//, "")}` : base;
  const children = node.children ? Object.values(node.children) : [];
  return [own, ...children.flatMap((child) => paths(child, own))];
}

describe("the router", () => {
  it("owns exactly the first path segments the service serves the app at", () => {
    const served = JSON.parse(readFileSync(resolve(__dirname, "../public/app-paths.json"), "utf-8")) as string[];
    const segments = new Set(
      paths(routeTree as unknown as Node)
        .map((p) => p.split("/").filter(Boolean)[0])
        .filter((s): s is string => Boolean(s)),
    );
    expect([...segments].sort()).toEqual([...served].sort());
  });
});
