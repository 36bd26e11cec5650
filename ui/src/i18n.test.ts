import { describe, expect, it } from "vitest";
import { en } from "./locales/en";
import { zhCN } from "./locales/zh-CN";

function leaves(o: Record<string, unknown>, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === "string") out.set(prefix + k, v);
    else for (const [kk, vv] of leaves(v as Record<string, unknown>, `${prefix}${k}.`)) out.set(kk, vv);
  }
  return out;
}

describe("i18n", () => {
  const e = leaves(en);
  const z = leaves(zhCN);
  it("has every key in both languages", () => {
    expect([...z.keys()].sort()).toEqual([...e.keys()].sort());
  });
  it("has no empty string and the same placeholders", () => {
    const vars = (s: string) => [...s.matchAll(/{{(\w+)}}/g)].map((m) => m[1]).sort();
    for (const [k, v] of e) {
      expect(v.length, k).toBeGreaterThan(0);
      expect(z.get(k)!.length, k).toBeGreaterThan(0);
      expect(vars(z.get(k)!), k).toEqual(vars(v));
    }
  });
  it("zh-CN is translated (navigation is not English)", () => {
    for (const k of [...z.keys()].filter((x) => x.startsWith("nav."))) expect(z.get(k)).not.toEqual(e.get(k));
  });
});
