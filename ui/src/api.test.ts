import { describe, expect, it } from "vitest";
import { sseParser, type SseEvent } from "./api";

describe("server-sent events", () => {
  it("parses events split across chunks and skips keepalives", () => {
    const got: SseEvent[] = [];
    const feed = sseParser((e) => got.push(e));
    feed("event: log\ndata: {\"id\":1}\n\n: keepalive\n\nevent: met");
    feed("ric\ndata: {\"id\":2}\n\nevent: end\ndata: {}\n\n");
    expect(got).toEqual([{ event: "log", data: "{\"id\":1}" }, { event: "metric", data: "{\"id\":2}" },
      { event: "end", data: "{}" }]);
  });
});
