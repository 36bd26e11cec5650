import { describe, expect, it } from "vitest";
import { csvField, flagCounts, idsAsCsv, toCsv } from "./lookups";

describe("lookup helpers", () => {
  it("quotes CSV fields that need it", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField('Zhang, "San"')).toBe('"Zhang, ""San"""');
    expect(csvField(null)).toBe("");
  });
  it("writes rows with every column, in first-seen order", () => {
    expect(toCsv([{ id: "1", risk: "a" }, { id: "2", found: false }]))
      .toBe("id,risk,found\n1,a,\n2,,false\n");
  });
  it("turns typed IDs into a one-column upload", () => {
    expect(idsAsCsv(" 138001\n\n138002, 138003 ", "msisdn")).toBe("msisdn\n138001\n138002\n138003\n");
  });
  it("counts the verification flags", () => {
    expect(flagCounts([
      { phone_found: true, name_match: true, id_match: true },
      { phone_found: true, name_match: false, id_match: true },
      { phone_found: false, name_match: false, id_match: false },
    ])).toEqual({ found: 2, names: 1, ids: 2, all: 1 });
  });
});
